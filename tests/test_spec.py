from dataclasses import replace

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec


def test_defaults_are_the_notebooks():
    mlp, cnn = RunSpec("mlp", "centered"), RunSpec("cnn", "offset")
    assert (mlp.epochs, mlp.batch_size, mlp.learning_rate, mlp.train_size) == (20, 1024, 1e-3, 60000)
    assert cnn.batch_size == 256 and cnn.image_size == 56


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be between 1 and 200"),
        ({"epochs": 201}, "epochs must be between"),
        ({"learning_rate": -0.1}, "learning rate must be between"),
        ({"learning_rate": float("nan")}, "learning rate must be a number"),
        ({"batch_size": 0}, "batch size must be between"),
        ({"train_size": 100, "batch_size": 256}, "cannot be larger than the training set"),
        ({"arch": "resnet"}, "architecture must be one of"),
        ({"data": "rotated"}, "data must be one of"),
        ({"epochs": 2.5}, "whole number"),
        ({"augment_shift": 15}, "augment shift must be between 0 and 14"),
        ({"arch": "cnn", "head": "dense"}, "head must be one of flatten, gmp, gap"),
        ({"arch": "cnn", "padding": "reflect"}, "padding must be one of notebook, same"),
        ({"arch": "cnn", "pool": ["max"]}, "pool must be one of max, blur"),
        ({"head": "gmp"}, "head 'gmp' is a CNN setting: an MLP has no convolutions"),
        ({"pool": "blur"}, "pool 'blur' is a CNN setting"),
    ],
)
def test_nonsense_is_refused_with_a_readable_message(changes, message):
    values = {"arch": "mlp", "data": "centered", **changes}
    with pytest.raises(MnistvizError, match=message):
        RunSpec(**values)


def test_limits_themselves_are_allowed():
    RunSpec("mlp", "centered", epochs=1, learning_rate=1.0, train_size=10, batch_size=10)
    RunSpec("cnn", "offset", epochs=200, learning_rate=1e-6, augment_shift=14)


def test_round_trip_through_json_ignores_unknown_keys():
    spec = RunSpec("cnn", "offset", epochs=3, name="  my   run ")
    assert spec.name == "my run"
    assert RunSpec.from_dict({**spec.to_dict(), "future_option": 1}) == spec


def test_summary_lists_the_settings_a_reader_needs_to_repeat_a_run():
    spec = RunSpec("cnn", "offset", epochs=3, batch_size=128, learning_rate=2e-3, train_size=20000, seed=4)
    assert spec.summary == "3 epochs · batch 128 · learning rate 0.002 · 20,000 training digits · seed 4"
    tuned = RunSpec("mlp", "centered", epochs=1, lr_schedule="cosine", augment_shift=3, patience=2)
    assert "1 epoch ·" in tuned.summary and "(cosine decay)" in tuned.summary
    assert "shifted up to 3 px" in tuned.summary and "early stop after 2 epochs" in tuned.summary


def test_a_global_pooling_cnn_sees_the_field_whatever_its_data():
    notebook = RunSpec("cnn", "centered")
    assert (notebook.view, notebook.image_size, notebook.label) == ("window", 28, "CNN centered")
    gmp = RunSpec("cnn", "centered", head="gmp", padding="same", pool="blur")
    assert (gmp.view, gmp.image_size, gmp.label) == ("field", 56, "CNN-gmp-same-blur centered")
    assert RunSpec("cnn", "offset", pool="blur").label == "CNN-blur offset"
    assert "gmp head, same padding, blur pooling" in gmp.summary
    assert "head" not in RunSpec("cnn", "offset").summary


def test_a_spec_saved_before_the_lab_is_the_notebooks_model():
    old = {"arch": "cnn", "data": "offset", "epochs": 3, "batch_size": 256, "learning_rate": 0.001}
    spec = RunSpec.from_dict(old)
    assert (spec.head, spec.padding, spec.pool, spec.view) == ("flatten", "notebook", "max", "field")
    assert RunSpec.from_dict(spec.to_dict()) == spec


def test_a_model_trained_on_centered_digits_may_be_given_the_whole_field():
    window, field = RunSpec("cnn", "centered"), RunSpec("cnn", "centered", input="field")
    assert (window.input, window.view, window.image_size) == (None, "window", 28)
    assert RunSpec("cnn", "centered", input="window") == window  # the notebook's choice, asked for by name
    assert (field.view, field.image_size, field.field_control) == ("field", 56, True)
    assert window.notebook_model and not field.notebook_model  # the control is the lab's, not the notebook's
    assert field != window and field.label == "CNN centered on the field" and "whole 56x56 field" in field.summary
    assert RunSpec("mlp", "centered", input="field").image_size == 56
    assert RunSpec.from_dict(field.to_dict()) == field
    assert RunSpec.from_dict({"arch": "cnn", "data": "centered"}) == window  # a spec.json from before `input`


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"data": "offset", "input": "window"}, "a model trained on offset digits takes the whole 56x56 field"),
        ({"head": "gmp", "input": "window"}, "a CNN with a global pooling head takes the whole 56x56 field"),
        ({"input": "corner"}, "input must be one of window, field"),
        ({"input": 3}, "input must be one of window, field"),
    ],
)
def test_an_input_a_model_cannot_take_is_refused_with_why(settings, message):
    with pytest.raises(MnistvizError, match=message):
        RunSpec(**{"arch": "cnn", "data": "centered", **settings})


def test_models_that_always_take_the_field_are_one_spec_however_asked():
    assert RunSpec("cnn", "offset").view == "field" == RunSpec("cnn", "offset", input="field").view
    assert RunSpec("cnn", "offset") == RunSpec("cnn", "offset", input="field")  # one run, not two
    assert RunSpec("cnn", "centered", head="gmp") == RunSpec("cnn", "centered", head="gmp", input="field")
    control = RunSpec("cnn", "centered", input="field")
    assert replace(control, head="gmp") == RunSpec("cnn", "centered", head="gmp")  # no stale input left behind
    assert replace(RunSpec("cnn", "centered"), head="gmp").view == "field"


def test_a_lab_variant_is_named_in_words_with_its_short_name_beside_them():
    assert RunSpec("mlp", "centered").model_words == "MLP"
    assert RunSpec("cnn", "centered", head="gmp").model_words == "CNN with global max pooling (CNN-gmp)"
    assert (
        RunSpec("cnn", "centered", head="gmp", padding="same", pool="blur").model_words
        == "CNN with global max pooling, same padding and blur pooling (CNN-gmp-same-blur)"
    )
    assert RunSpec("cnn", "centered", head="gap", padding="same").model_words == (
        "CNN with global average pooling and same padding (CNN-gap-same)"
    )
