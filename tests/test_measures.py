"""The Shift Lab's measures of a saved run: computed once, cached with the run, read back as untrusted JSON."""

import json

import numpy as np
import pytest

from mnistviz.analysis import measures, shifts
from mnistviz.learning.field import FIELD
from mnistviz.learning.spec import RunSpec
from tests.test_shift_results import _trained, counting


def test_a_runs_measures_are_computed_once_and_cached(tmp_path, synthetic_variants, monkeypatch):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    computed = counting(monkeypatch, shifts, "stability")
    first = measures.compute_measures(store, run_id)
    assert 0 <= first.centered <= 1 and 0 <= first.anywhere <= 1 and 0 <= first.consistency <= 1
    assert first.stability.distances == list(shifts.STABILITY_DISTANCES)
    assert all(0 <= share <= 1 for share in first.stability.stability)
    assert measures.compute_measures(store, run_id) == first and len(computed) == 1
    assert measures.cached_measures(store.load(run_id)) == first
    flips = first.stability.flips
    assert len(flips) == round((1 - first.stability.one_pixel) * 100)  # the synthetic test set: 100 digits
    if flips:
        before, after = measures.flip_views(flips[0], "window")
        assert before.shape == after.shape == (28, 28) and not np.array_equal(before, after)


def test_a_field_model_is_measured_in_its_own_view(tmp_path, synthetic_variants):
    spec = RunSpec("cnn", "centered", head="gmp", epochs=1, batch_size=50, train_size=300)
    store, run_id = _trained(tmp_path, spec)
    result = measures.compute_measures(store, run_id)
    assert 0 <= result.anywhere <= 1
    for flip in result.stability.flips[:1]:
        assert measures.flip_views(flip, "field")[0].shape == (FIELD, FIELD)


GOOD = {
    "centered": 0.9,
    "anywhere": 0.2,
    "consistency": 0.93,
    "consistency_range": shifts.CONSISTENCY_RANGE,
    "distances": [1, 2],
    "stability": [0.95, 0.9],
    "flips": [
        {"index": 3, "move": [1, -1], "before": 7, "before_probability": 0.6, "after": 1, "after_probability": 0.5}
    ],
}


@pytest.mark.parametrize(
    "changes",
    [
        {"centered": 1.5},
        {"stability": [0.95]},
        {"consistency": 1.2},
        {"consistency": [0.95, 0.9]},
        {"consistency_range": 2},
        {"distances": [2, 3]},
        {"flips": [{**GOOD["flips"][0], "after": 12}]},
        {"flips": [{**GOOD["flips"][0], "index": -1}]},
        {"flips": [{**GOOD["flips"][0], "after_probability": 1e15}]},  # seen: "1000000000000000076297...% sure"
        {"flips": [{**GOOD["flips"][0], "before_probability": float("nan")}]},
        {"flips": [{**GOOD["flips"][0], "move": [1_000_000, -1_000_000]}]},
        {"flips": "many"},
        {"anywhere": None},
    ],
)
def test_measures_that_are_not_measures_are_refused(changes):
    assert measures.Measures.from_dict(GOOD).stability.one_pixel == 0.95
    with pytest.raises(ValueError):
        measures.Measures.from_dict({**GOOD, **changes})


def test_measures_written_before_zhangs_consistency_are_computed_again(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    first = measures.compute_measures(store, run_id)
    old = {key: value for key, value in first.to_dict().items() if key not in ("stability", "consistency_range")}
    old["consistency"] = first.stability.stability  # the old file called the stability "consistency"
    path = store.load(run_id).folder / "measures-v2-samples1000.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **old} | {"stability": None}))
    assert measures.cached_measures(store.load(run_id)) is None


def test_an_edited_measures_file_is_computed_again(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    first = measures.compute_measures(store, run_id)
    path = next(store.load(run_id).folder.glob("measures-*.json"))
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "centered": "all of them"}))
    assert measures.cached_measures(store.load(run_id)) is None
    assert measures.compute_measures(store, run_id) == first
    past_the_test_set = {"index": 9_999, "move": [1, 0], "before": 7, "before_probability": 0.9}
    saved = json.loads(path.read_text())  # the file's own check allows any of MNIST's 10,000 test indices
    saved["flips"] = [{**past_the_test_set, "after": 1, "after_probability": 0.8}]
    path.write_text(json.dumps(saved))
    assert measures.cached_measures(store.load(run_id)) is None


def test_the_lab_quotes_how_long_measuring_a_run_took_on_this_server(tmp_path, synthetic_variants):
    from mnistviz.analysis import shift_maps

    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    assert measures.measuring_seconds(store.list(), 6, 50) is None  # nothing measured yet: nothing to quote
    measures.compute_measures(store, run_id)
    assert measures.measuring_seconds(store.list(), 6, 50) is None  # the shift map is half the measuring
    shift_maps.compute_shift_map(store, run_id, step=6, samples=50)
    seconds = measures.measuring_seconds(store.list(), 6, 50)
    assert seconds is not None and 0 < seconds < 120
    store.write_status(run_id, "finished", imported=1.0)  # measured on another machine: not this server's pace
    assert measures.measuring_seconds(store.list(), 6, 50) is None
