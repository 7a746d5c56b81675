"""mnistviz installs as a package: a wheel with the backend only, and a `mnistviz` command that runs anywhere."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT_ANYWHERE = shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


def LEFT_OUT(folder: str, names: list[str]) -> set[str]:
    """Caches and build output anywhere, the runs folder only at the top: mnistviz/runs/ is code."""
    left_out = set(LEFT_OUT_ANYWHERE(folder, names))
    if Path(folder) == REPO and "runs" in names:
        left_out.add("runs")
    return left_out


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
    assert {"mnistviz/cli.py", "mnistviz/learning/field.py", "mnistviz/ui/setup.py"} <= set(names)
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


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path, dict]:
    """The wheel installed into a folder of its own; a working folder outside the source tree; the environment."""
    site = tmp_path_factory.mktemp("site")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment["PYTHONPATH"] = str(site)
    return site, elsewhere, environment


def test_every_module_of_the_installed_package_imports_with_the_files_it_reads(installed):
    site, elsewhere, environment = installed
    script = (
        "import importlib, pkgutil, mnistviz\n"
        "names = [m.name for m in pkgutil.walk_packages(mnistviz.__path__, 'mnistviz.') if m.name != 'mnistviz.__main__']\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(mnistviz.__file__, *names)\n"
    )
    environment = {**environment, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    where, *imported = result.stdout.splitlines()[-1].split()
    in_the_tree = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "mnistviz").rglob("*.py")
    } - {"mnistviz", "mnistviz.__main__"}
    assert set(imported) == in_the_tree and Path(where).is_relative_to(site)


def test_the_installed_command_runs_outside_the_source_tree(installed):
    site, elsewhere, environment = installed
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


def test_the_suite_runs_on_versions_at_or_above_every_floor_and_ci_installs_the_floors():
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    for file in ("requirements.txt", "requirements-cluster.txt"):
        for line in (REPO / file).read_text().splitlines():
            if line.split("#")[0].strip():
                requirement = Requirement(line.split("#")[0])
                (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
                assert Version(version(requirement.name)) >= Version(floor), requirement
    assert '-c "$floors"' in (REPO / ".ci" / "run").read_text()  # CI pins them: the floors pass the suite
