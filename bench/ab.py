"""Training throughput of one notebook config, notebook and mnistviz taking turns epoch by epoch:
`python -m bench.ab ARCH DATA [--digits N] [--epochs E]`.

The same measurement as a throughput row of `python -m bench`, with every epoch pair shown,
for checking one config or a change to the training path without the whole table.
"""

import argparse
import tempfile
from pathlib import Path

from bench.run import throughput


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["mlp", "cnn"])
    parser.add_argument("data", choices=["centered", "offset"])
    parser.add_argument("--digits", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=6, help="per side; the first is warm-up")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        measured = throughput(args.arch, args.data, args.digits, args.epochs, Path(folder))
    print("epoch  notebook s  mnistviz s  ratio")
    for number, (theirs, ours, ratio) in enumerate(
        zip(measured.notebook, measured.mnistviz, measured.epoch_ratios, strict=True), start=2
    ):
        print(f"{number:>5}  {theirs:>10.2f}  {ours:>10.2f}  {ratio:.2f}x")
    print(
        f"samples/s: notebook {measured.samples_per_second('notebook'):,.0f}, "
        f"mnistviz {measured.samples_per_second('mnistviz'):,.0f} (median epochs); "
        f"median ratio {measured.ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
