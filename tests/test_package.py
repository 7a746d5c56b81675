"""mnistviz installs as a package: a wheel with the backend only, and a `mnistviz` command that runs anywhere."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel --no-deps .` builds from a copy of the source tree."""
    folder = tmp_path_factory.mktemp("package")
    source = folder / "source"
    shutil.copytree(REPO, source, ignore=LEFT_OUT)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    subprocess.run([*command, "-w", str(folder / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    (built,) = (folder / "dist").glob("mnistviz-*.whl")
    return built


def test_the_wheel_holds_the_mnistviz_package_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"mnistviz", next(t for t in top if t.endswith(".dist-info"))}
    assert {"mnistviz/cli.py", "mnistviz/field.py", "mnistviz/ui/setup.py"} <= set(names)
    assert not [name for name in names if name.startswith(("tests/", "bench/", "pages/"))]


def test_the_runtime_dependencies_are_listed_once_in_requirements_txt():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "dependencies" not in project["project"] and "dependencies" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}


def test_the_wheel_declares_the_command_and_the_requirements_file_once(wheel):
    archive = zipfile.ZipFile(wheel)
    info = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
    entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "mnistviz = mnistviz.cli:run" in entry_points
    required = [
        line.split(":", 1)[1].strip()
        for line in archive.read(info).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    listed = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines() if line.strip()]
    assert sorted(required) == sorted(listed)


def test_the_installed_command_runs_outside_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment["PYTHONPATH"] = str(site)
    command = site / "bin" / "mnistviz"
    result = subprocess.run(
        [sys.executable, str(command), "--help"], cwd=elsewhere, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mnistviz") and "train-all" in result.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import mnistviz; print(mnistviz.__file__)"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)
