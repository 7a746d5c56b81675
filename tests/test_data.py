import numpy as np
import pytest

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.learning import data


def test_holdout_split_matches_scikit_learn():
    """The notebook's split: train_test_split(np.arange(10000), test_size=0.5, random_state=1), as scikit-learn 1.9 gave it.

    Recorded rather than imported: with scikit-learn installed, every Keras import also loads it and SciPy (2 s).
    """
    val, test = data.holdout_split(10000)
    assert val[:8].tolist() == [4925, 3341, 2470, 270, 8123, 1398, 9299, 4739]
    assert test[:8].tolist() == [9953, 3850, 4962, 3886, 5437, 8517, 2041, 1989]
    order = np.arange(5000)
    assert (int(val @ order), int(test @ order)) == (62687198561, 62700564537)  # every index, in its place
    assert sorted([*val, *test]) == list(range(10000))


def test_centered_variant_keeps_uint8_and_splits_holdout_in_halves(tiny_mnist):
    variant = data.make_variant(tiny_mnist, "centered")
    assert variant.x_train.dtype == np.uint8 and variant.x_train.shape == (600, 28, 28)
    assert len(variant.x_val) == len(variant.x_test) == 100
    val_index, test_index = data.holdout_split(200)
    assert np.array_equal(variant.x_test, tiny_mnist.x_test[test_index])
    assert np.array_equal(variant.y_val, tiny_mnist.y_test[val_index])


def test_offset_variant_places_every_digit_whole_inside_the_field(tiny_mnist):
    variant = data.make_variant(tiny_mnist, "offset")
    assert variant.x_train.dtype == np.uint8 and variant.x_train.shape == (600, 56, 56)
    # all the ink of every digit survives the paste
    assert np.array_equal(variant.x_train.reshape(600, -1).sum(axis=1), tiny_mnist.x_train.reshape(600, -1).sum(axis=1))


def test_paste_puts_the_digit_at_its_position():
    digit = np.arange(28 * 28, dtype=np.int32).reshape(1, 28, 28)
    field = data.paste(digit, np.array([[3, 27]]))
    assert np.array_equal(field[0, 3:31, 27:55], digit[0])
    assert field.sum() == digit.sum()


def test_offset_positions_are_uniform_and_reproducible():
    first = data.offset_positions(280000, np.random.default_rng(7))
    again = data.offset_positions(280000, np.random.default_rng(7))
    assert np.array_equal(first, again)
    assert first.min() == 0 and first.max() == 27
    counts = np.bincount(first[:, 0], minlength=28)
    expected = len(first) / 28
    chi_square = ((counts - expected) ** 2 / expected).sum()
    assert chi_square < 60  # 27 degrees of freedom: p < 0.001 above ~55
    other = data.offset_positions(280000, np.random.default_rng(8))
    assert not np.array_equal(first, other)


def test_same_seed_gives_same_offset_data(tiny_mnist):
    a = data.make_variant(tiny_mnist, "offset", seed=3)
    b = data.make_variant(tiny_mnist, "offset", seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.x_test, b.x_test)


def test_to_float_scales_to_unit_interval():
    out = data.to_float(np.array([[0, 255, 51]], dtype=np.uint8))
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.0, 1.0, 0.2]])


def _write_npz(path, **overrides):
    arrays = {
        "x_train": np.zeros((60000, 28, 28), np.uint8),
        "y_train": np.zeros(60000, np.uint8),
        "x_test": np.zeros((10000, 28, 28), np.uint8),
        "y_test": np.zeros(10000, np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def test_wrong_shape_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    _write_npz(path, x_train=np.zeros((100, 28, 28), np.uint8))
    with pytest.raises(MnistvizError, match="x_train.*shape"):
        data.read_npz(path)


def test_missing_key_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    _write_npz(path, y_test=None)
    with pytest.raises(MnistvizError, match="no array 'y_test'"):
        data.read_npz(path)


def test_truncated_file_is_a_clear_error(tmp_path):
    good = tmp_path / "good.npz"
    _write_npz(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(MnistvizError, match="not a readable MNIST"):
        data.read_npz(truncated)


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch):
    good = tmp_path / "good.npz"
    _write_npz(good, y_train=np.full(60000, 7, np.uint8))
    monkeypatch.setenv("MNISTVIZ_DATA", str(tmp_path / "missing.npz"))
    assert data.load_mnist(good).y_train[0] == 7


def test_bad_environment_path_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_DATA", str(tmp_path / "missing.npz"))
    with pytest.raises(MnistvizError, match="MNISTVIZ_DATA"):
        data.load_mnist()


def test_keras_cache_is_used_before_download(tmp_path, monkeypatch):
    monkeypatch.delenv("MNISTVIZ_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cache = config.keras_cache_path()
    cache.parent.mkdir(parents=True)
    _write_npz(cache, y_train=np.full(60000, 3, np.uint8))
    monkeypatch.setattr(data, "_load_download", lambda: pytest.fail("downloaded although the cache exists"))
    assert data.load_mnist().y_train[0] == 3


def test_when_every_source_fails_the_error_says_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.delenv("MNISTVIZ_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def no_network():
        raise OSError(f"network is unreachable, saving to {tmp_path}/keras/datasets/mnist.npz")

    monkeypatch.setattr(data, "_load_download", no_network)
    with pytest.raises(MnistvizError) as caught:
        data.load_mnist()
    message = str(caught.value)
    assert "Keras' saved copy (none yet)" in message and "Keras' download (OSError" in message
    assert "connect the server to the internet" in message and "MNISTVIZ_DATA" in message
    assert str(tmp_path) not in message  # a student reads it: no path of the server's
