"""Where the parts meet: only the UI part of mnistviz imports Streamlit, nothing in it imports bench/, pages are layout.

Read from the source (every import statement, those inside functions too), so that a lazy import
that would pull Streamlit or the benchmarks into the backend is caught before anything runs it.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "mnistviz"
UI = "mnistviz.ui"
PAGE_IMPORTS = {"mnistviz", "streamlit", "plotly"}  # STYLE.md: nothing heavier


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module an import statement of this file names (for `from a import b`: a, and a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(path): imports(path) for path in PACKAGE.rglob("*.py")}


def reachable(start: str) -> set[str]:
    """Every module `start` imports, directly or through other mnistviz modules."""
    seen, todo = set(), [start]
    while todo:
        for name in MODULES.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


BACKEND = sorted(name for name in MODULES if not is_under(name, UI))


@pytest.mark.parametrize("module", BACKEND)
def test_the_backend_never_imports_streamlit_or_the_benchmarks(module):
    pulled_in = reachable(module)
    assert not [name for name in pulled_in if is_under(name, "streamlit")], f"{module} pulls in Streamlit"
    assert not [name for name in pulled_in if is_under(name, "bench")], f"{module} pulls in bench/"
    assert not [name for name in pulled_in if is_under(name, UI)], f"{module} pulls in {UI}"


def test_importing_the_whole_backend_loads_neither_streamlit_nor_the_benchmarks():
    """What the walk cannot see (importlib, a dependency that imports Streamlit): import every module and look."""
    code = (
        "import importlib, sys\n"
        f"for name in {[name for name in BACKEND if name != 'mnistviz.__main__']!r}:\n"  # that one runs the CLI
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'bench')))\n"
    )
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_ui_part_is_where_streamlit_is_imported():
    assert any(is_under(name, "streamlit") for name in reachable(UI))


def test_the_walk_sees_a_lazy_import_inside_a_function(tmp_path):
    source = tmp_path / "lazy.py"
    source.write_text("def later():\n    from streamlit import session_state\n")
    assert "streamlit" in imports(source)


@pytest.mark.parametrize("script", ["app.py", *sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("pages/*.py"))])
def test_pages_import_only_mnistviz_streamlit_and_plotly(script):
    roots = {name.split(".")[0] for name in imports(REPO / script)}
    assert roots <= PAGE_IMPORTS, f"{script} imports {sorted(roots - PAGE_IMPORTS)}"


def test_every_page_starts_with_the_shared_set_up():
    for script in ["app.py", *REPO.glob("pages/*.py")]:
        tree = ast.parse((REPO / script).read_text())
        calls = [
            node for node in tree.body if isinstance(node, ast.Expr | ast.Assign) and isinstance(node.value, ast.Call)
        ]
        first = ast.unparse(calls[0].value.func)
        assert first == "ui.page_setup", f"{script} calls {first} before ui.page_setup"
