from mnistviz.learning.presets import preset_specs
from mnistviz.learning.spec import RunSpec


def test_notebook_preset_is_the_notebooks_protocol():
    specs = preset_specs("notebook")
    assert [(s.arch, s.data) for s in specs] == [
        ("mlp", "centered"),
        ("cnn", "centered"),
        ("mlp", "offset"),
        ("cnn", "offset"),
    ]
    assert all(s == RunSpec(s.arch, s.data) and s.epochs == 20 for s in specs)


def test_class_preset_trains_the_same_four_models_in_fewer_epochs():
    specs = preset_specs("class")
    assert [(s.arch, s.data) for s in specs] == [(s.arch, s.data) for s in preset_specs("notebook")]
    assert all(s.train_size == 60000 and s.augment_shift == 0 for s in specs)  # full data, the notebook's task
    assert sum(s.epochs for s in specs) < 20  # the notebook's protocol is 4 x 20 epochs
