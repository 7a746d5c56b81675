"""Entry point of `python -m mnistviz`."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from mnistviz.cli import run  # noqa: E402

run()
