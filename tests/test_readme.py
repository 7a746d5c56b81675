"""The README is a teacher's document that says only true things: short, its tables the code's own facts."""

from pathlib import Path

import pytest

from mnistviz.learning import notebook, presets

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_readme_is_at_most_200_lines():
    assert README.count("\n") <= 200


def test_every_deviation_from_the_notebook_is_in_the_readmes_table():
    for what, theirs, ours in notebook.DEVIATIONS:
        assert f"| {what} | {theirs} | {ours} |" in README


def test_the_class_presets_deviation_says_what_the_preset_trains():
    (_, _, ours) = next(row for row in notebook.DEVIATIONS if row[0].startswith("class preset"))
    epochs = {cell: settings["epochs"] for cell, settings in presets.CLASS_SETTINGS.items()}
    assert f"MLP centered {epochs[('mlp', 'centered')]} epochs, CNN centered {epochs[('cnn', 'centered')]}" in ours
    assert f"MLP offset {epochs[('mlp', 'offset')]}, CNN offset {epochs[('cnn', 'offset')]}" in ours
    assert all(settings["lr_schedule"] == "cosine" for settings in presets.CLASS_SETTINGS.values())
    assert not any(settings.get("patience") for settings in presets.CLASS_SETTINGS.values())
    assert "patience" not in ours and "--patience N` (early stopping) are what the class preset" not in README


@pytest.mark.parametrize("folder", ["README.md", "docs", "pages", "mnistviz", "app.py"])
def test_nothing_says_valid_convolutions_cut_off_the_fields_edge(folder):
    path = ROOT / folder
    files = [path] if path.is_file() else [*path.rglob("*.py"), *path.rglob("*.md")]
    for file in files:
        text = " ".join(file.read_text().split()).lower()
        assert "cut off the field's last rows" not in text, file
        assert "partly unseen" not in text, file
        assert "the corner is partly" not in text, file
