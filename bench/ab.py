"""Training throughput of one notebook config, notebook and mnistviz taking turns: `python -m bench.ab ARCH DATA`.

The table in `python -m mnistviz bench` measures each side once, one after the other; a short MLP epoch
then moves by 10-15% from run to run. Here the two alternate `--repeats` times on the same data and the
medians are compared, so a drifting machine weighs on both alike.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.run import mnistviz_samples_per_second, notebook_samples_per_second


def alternate(arch: str, variant: str, count: int, epochs: int, repeats: int) -> dict[str, list[float]]:
    """Samples/s of each side per repeat, the notebook first in every pair."""
    speeds = {"notebook": [], "mnistviz": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            speeds["notebook"].append(notebook_samples_per_second(arch, variant, count, epochs))
            speeds["mnistviz"].append(mnistviz_samples_per_second(arch, variant, count, epochs, Path(folder)))
    return speeds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["mlp", "cnn"])
    parser.add_argument("data", choices=["centered", "offset"])
    parser.add_argument("--digits", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first is warm-up")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    speeds = alternate(args.arch, args.data, args.digits, args.epochs, args.repeats)
    for side, values in speeds.items():
        print(
            f"{side}: "
            + ", ".join(f"{value:,.0f}" for value in values)
            + f" samples/s; median {np.median(values):,.0f}"
        )
    print(f"ratio of medians: {np.median(speeds['mnistviz']) / np.median(speeds['notebook']):.2f}x")


if __name__ == "__main__":
    main()
