"""The teaching notebook's code as written, ported to Keras 3 only where the API changed.

Changes: `lr=` became `learning_rate=`, seeding uses `keras.utils.set_random_seed`, and the offset
CNN ends in Dense(10) (the notebook's Dense(100) is a bug mnistviz fixes; the cost is the same).
Data are float64 as in the notebook (`x / 255.0` on uint8 arrays gives float64).
"""

import keras
import numpy as np
from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from keras.models import Sequential


def centered_data(x_train, x_test):
    """The notebook's scaling: float64 copies."""
    return x_train / 255.0, x_test / 255.0


def offset_data(x):
    """The notebook's offset dataset: a float64 56x56 field per digit, pasted at a random place."""
    out = np.zeros((len(x), 56, 56))
    for i in range(len(x)):
        row, col = np.random.randint(0, 28, size=2)
        out[i, row : row + 28, col : col + 28] = x[i] / 255.0
    return out


def mlp(size):
    model = Sequential()
    model.add(keras.Input(shape=(size, size)))
    model.add(Flatten())
    model.add(Dense(512, activation="relu"))
    model.add(Dense(256, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def cnn(size):
    model = Sequential()
    model.add(keras.Input(shape=(size, size, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu", padding="same" if size == 28 else "valid"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


BATCH_SIZE = {"mlp": 1024, "cnn": 256}
EPOCHS = 20
BUILDERS = {"mlp": mlp, "cnn": cnn}
