"""MNIST as the notebook uses it: the val/test split, the centered and the offset variants.

Images stay uint8 everywhere (the offset training set is 60000x56x56 = 188 MB); scaling to
float32 happens per batch, in `training/fit.py` and `analysis/predictor.py`.
"""

import contextlib
import logging
import sys
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.learning.field import DIGIT, FIELD, VARIANTS, paste
from mnistviz.runs.cache import BoundedCache

HOLDOUT_SEED = 1  # the notebook's train_test_split(random_state=1)
DATA_SEED = 0  # offset positions are fixed per process so that every run sees the same test set

_EXPECTED = {
    "x_train": ((60000, 28, 28), np.uint8),
    "y_train": ((60000,), np.uint8),
    "x_test": ((10000, 28, 28), np.uint8),
    "y_test": ((10000,), np.uint8),
}


@dataclass(frozen=True)
class Mnist:
    """The raw MNIST arrays in Keras' layout."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Variant:
    """One data variant, split as in the notebook: train 60000, validation 5000, test 5000."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_size(self) -> int:
        return self.x_train.shape[1]


_LABELS = {"y_train", "y_test"}
# every way a file can fail to read as an .npz: zipfile signals a compression method Python lacks with
# NotImplementedError and an encrypted member with RuntimeError; zlib.error is a corrupt deflate stream
_UNREADABLE = (
    OSError,
    ValueError,
    zipfile.BadZipFile,
    EOFError,
    MemoryError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def read_npz(path: Path) -> Mnist:
    """Read and check an MNIST .npz in Keras' layout; any defect is a MnistvizError naming the file, not its folder.

    Each array's header (shape, type) is checked before its data is read, so a file claiming billions
    of elements costs nothing; pixels must be whole numbers 0..255 and labels 0..9.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise MnistvizError(f"{name} does not exist or is not a file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {member.removesuffix(".npy"): member for member in archive.namelist()}
            arrays = {}
            for key, (shape, dtype) in _EXPECTED.items():
                if key not in members:
                    raise MnistvizError(f"{name} has no array '{key}' (has: {', '.join(members)})")
                with archive.open(members[key]) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    header_shape, _, header_dtype = read_header(member)
                    if header_shape != shape:
                        raise MnistvizError(f"{name}: '{key}' has shape {header_shape}, expected {shape}")
                    if header_dtype.kind not in "iu":
                        raise MnistvizError(
                            f"{name}: '{key}' holds {header_dtype} values, expected whole numbers (uint8) as in "
                            "Keras' mnist.npz; pixels scaled to 0..1 would all read as 0"
                        )
                array = np.load(archive.open(members[key]), allow_pickle=False)
                high = 9 if key in _LABELS else 255
                if array.size and (array.min() < 0 or array.max() > high):
                    raise MnistvizError(f"{name}: '{key}' has values outside 0..{high}")
                arrays[key] = array.astype(dtype, copy=False)
    except MnistvizError:
        raise
    except _UNREADABLE as error:
        raise MnistvizError(f"{name} is not a readable MNIST .npz ({type(error).__name__}: {error})") from error
    return Mnist(**arrays)


def _keras_download() -> Mnist:
    """Keras' own loader: downloads to its cache on first use (its messages go to stderr, not stdout)."""
    import keras

    with contextlib.redirect_stdout(sys.stderr):
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return Mnist(x_train, y_train, x_test, y_test)


def load_mnist(path: str | Path | None = None) -> Mnist:
    """Load MNIST from, in order: `path`, MNISTVIZ_DATA, the Keras cache, a Keras download."""
    if path is not None:
        return _load_cached(Path(path).expanduser().resolve())
    env_path = config.data_path()
    if env_path is not None:
        try:
            return _load_cached(env_path.resolve())
        except MnistvizError as error:
            raise MnistvizError(
                f"MNISTVIZ_DATA points at an unusable file: {error}. "
                "Fix the path or unset MNISTVIZ_DATA to use Keras' download."
            ) from error
    tried = []
    cache = config.keras_cache_path()
    if cache.is_file():
        try:
            return _load_cached(cache.resolve())
        except MnistvizError as error:
            tried.append(f"Keras' saved copy ({error})")
    else:
        tried.append("Keras' saved copy (none yet)")
    try:
        return _load_download()
    except Exception as error:  # any network or file failure; its message would show the server's paths
        logger.warning("Keras could not download MNIST: %s", error)
        tried.append(f"Keras' download ({type(error).__name__}: no internet here?)")
    raise MnistvizError(
        "Could not load MNIST. Tried: "
        + "; ".join(tried)
        + ". Fix: connect the server to the internet once so that Keras can download it (11 MB), or start it "
        "with MNISTVIZ_DATA set to a copy of mnist.npz in Keras' layout (x_train, y_train, x_test, y_test)."
    )


logger = logging.getLogger(__name__)
_files = BoundedCache(size=2)  # path (or "download") -> Mnist: 55 MB each, read once per process


def _load_cached(path: Path) -> Mnist:
    return _files.get_or_compute(path, lambda: read_npz(path))


def _load_download() -> Mnist:
    return _files.get_or_compute("download", _keras_download)


def holdout_split(n: int, seed: int = HOLDOUT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices (validation, test) of scikit-learn's train_test_split(test_size=0.5, random_state=seed).

    scikit-learn draws one permutation from RandomState(seed): its first ceil(n/2) indices are
    the test part, the rest the train part (the notebook's validation set).
    """
    permutation = np.random.RandomState(seed).permutation(n)
    n_test = int(np.ceil(0.5 * n))
    return permutation[n_test:], permutation[:n_test]


def offset_positions(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) uniformly random (row, col) in 0..FIELD-DIGIT-1 at which digits are pasted."""
    return rng.integers(0, FIELD - DIGIT, size=(n, 2), endpoint=False)


def make_variant(mnist: Mnist, name: str, seed: int = DATA_SEED) -> Variant:
    """Build the centered (28x28) or offset (56x56, positions seeded) variant of MNIST."""
    if name not in VARIANTS:
        raise MnistvizError(f"unknown data variant '{name}': choose one of {', '.join(VARIANTS)}")
    val_index, test_index = holdout_split(len(mnist.y_test))
    x_train, x_holdout = mnist.x_train, mnist.x_test
    if name == "offset":
        rng = np.random.default_rng(seed)
        x_train = paste(x_train, offset_positions(len(x_train), rng))
        x_holdout = paste(x_holdout, offset_positions(len(x_holdout), rng))
    return Variant(
        name=name,
        x_train=x_train,
        y_train=mnist.y_train,
        x_val=x_holdout[val_index],
        y_val=mnist.y_test[val_index],
        x_test=x_holdout[test_index],
        y_test=mnist.y_test[test_index],
    )


_variants = BoundedCache(size=4)  # (name, id(mnist)) -> (mnist, variant): both variants of two MNIST files
_building = threading.Lock()  # one build at a time: two sessions must not build the 188 MB offset set twice


def load_variant(name: str, path: str | Path | None = None) -> Variant:
    """The variant of the process-wide MNIST, built once per process and shared by all callers."""
    with _building:
        mnist = load_mnist(path)
        key = (name, id(mnist))  # the entry holds `mnist`, so its id is not reused while it is cached
        return _variants.get_or_compute(key, lambda: (mnist, make_variant(mnist, name)))[1]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1], as the models expect."""
    return images.astype(np.float32) / np.float32(255.0)
