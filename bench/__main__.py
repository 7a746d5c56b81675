"""`python -m bench [--quick] [--json]`: every benchmark in one run, printed as a table (or JSON)."""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.run import as_json, run, table  # noqa: E402

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="fewer steps, no class preset: about 4 minutes")
parser.add_argument("--json", action="store_true", help="print the rows as one JSON document")
args = parser.parse_args()
rows = run(quick=args.quick)
print(as_json(rows) if args.json else table(rows))
