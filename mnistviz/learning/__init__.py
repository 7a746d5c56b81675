"""The models and the data: MNIST on the field, the run settings, the layers, the notebook's models."""
