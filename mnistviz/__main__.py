"""Entry point of `python -m mnistviz`, the same as the `mnistviz` command."""

from mnistviz.cli import run

run()
