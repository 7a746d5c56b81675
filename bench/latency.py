"""Draw's prediction time while a CNN trains, with and without the training process' TensorFlow thread bound.

`python -m bench.latency [--seconds 20] [--repeats 2] [--threads 0 1]`: for each MNISTVIZ_TF_THREADS
value (0 is no bound) a fresh process saves the notebook's four models, times `predictor.predict_all`
on a drawing while idle, then again while a CNN trains on offset digits in a training process of its
own, started by the job queue as on the server. Settings alternate, so the changing load of a shared
machine falls on each alike. Needs MNIST (MNISTVIZ_DATA).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnistviz import config

TRAINING = dict(arch="cnn", data="offset", epochs=200, train_size=20000, batch_size=128)


def _seven() -> np.ndarray:
    field = np.zeros((56, 56), np.uint8)
    field[19:22, 20:36] = 255
    for row in range(22, 38):
        col = 34 - (row - 22) // 2
        field[row, col : col + 3] = 255
    return field


def _sample(predict, seconds: float) -> list[float]:
    """Milliseconds per call of `predict`, called every 50 ms for `seconds` (students drawing now and then)."""
    times, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        predict()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.05)
    return times


def child(seconds: float) -> dict:
    """One measurement, the training process bounded as this process' MNISTVIZ_TF_THREADS asks."""
    from bench.load import save_notebook_models
    from mnistviz.analysis import predictor
    from mnistviz.learning.spec import RunSpec
    from mnistviz.runs.store import RunStore
    from mnistviz.training import jobs

    bound = config.tf_threads()
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs")
        save_notebook_models(store.root)
        models, _ = predictor.saved_models(store)
        field = _seven()

        def predict():
            predictor.predict_all(field, models=models)

        idle = _sample(predict, seconds / 2)
        manager = jobs.JobManager(store)
        job = manager.submit(RunSpec(**TRAINING))
        while job.snapshot().samples_seen < 1000 and not job.done.is_set():
            time.sleep(0.1)
        before = job.snapshot()
        training = _sample(predict, seconds)
        after = job.snapshot()
        manager.stop(job.run_id)
        job.done.wait()
        manager.shut_down()
    samples_per_second = (after.samples_seen - before.samples_seen) / max(after.elapsed - before.elapsed, 1e-9)
    return {"bound": bound, "idle": idle, "training": training, "samples_per_second": samples_per_second}


def _run_child(threads: str, seconds: float) -> dict:
    env = {**os.environ, "MNISTVIZ_TF_THREADS": threads, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "bench.latency", "--child", "--seconds", str(seconds)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="of predictions while training, per run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", nargs="+", default=["0", str(config.tf_threads() or 1)])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.seconds)))
        return
    pooled = {threads: {"idle": [], "training": [], "speed": []} for threads in args.threads}
    for repeat in range(args.repeats):
        for threads in args.threads:
            print(f"run {repeat + 1}/{args.repeats}, MNISTVIZ_TF_THREADS={threads}...", file=sys.stderr, flush=True)
            result = _run_child(threads, args.seconds)
            pooled[threads]["idle"] += result["idle"]
            pooled[threads]["training"] += result["training"]
            pooled[threads]["speed"].append(result["samples_per_second"])
    print(
        f"predictor.predict_all, 4 models, one drawing; a CNN on offset digits training in a process of its own ({os.cpu_count()} cores)"
    )
    print("| MNISTVIZ_TF_THREADS | idle p50 / p95 ms | while training p50 / p95 / max ms | training samples/s |")
    print("| --- | --- | --- | --- |")
    for threads, values in pooled.items():
        label = f"{threads} (no bound)" if threads == "0" else threads
        training = values["training"]
        print(
            f"| {label} | {_ms(values['idle'], 50)} / {_ms(values['idle'], 95)} | "
            f"{_ms(training, 50)} / {_ms(training, 95)} / {max(training):.0f} | {np.median(values['speed']):.0f} |"
        )


if __name__ == "__main__":
    main()
