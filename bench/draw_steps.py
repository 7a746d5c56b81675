"""Where one student waits on Draw: `python -m bench.draw_steps [--rounds 10] [--training]`.

Serves the dashboard over the notebook's four models (untrained: the time to an answer does not
depend on the weights) and drives one Chromium session at 1280x800. Each round opens Draw afresh,
draws a 7, and times, on the page's own clock, from pen up to all four answers on screen and to the
position maps on screen; then presses the one-pixel nudge and times from the click to the answers for
the moved digit. With `--training` a CNN trains on offset digits throughout, as in a lesson, in a
training process of its own. It also reports the server's memory (RSS) at the end, and its peak.
"""

import argparse
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from bench.load import SEVEN, WAIT, _open_draw, _steady_canvas, _wait_for_batches, save_notebook_models, start_training
from mnistviz import config
from tests.server import CHROMIUM, CHROMIUM_ARGS, serve

# In the page: when each of the steps first shows, as performance.now(); the harness reads them back.
WATCH = """models => {
    window.mnistvizShown = {};
    const fresh = element => element && !element.closest('[data-stale="true"]');
    const answers = () => Array.from(document.querySelectorAll('[class*="st-key-draw-answer-"]')).filter(fresh);
    const steps = {
        answers: () => answers().length >= models,
        maps: () => Array.from(document.querySelectorAll('[class*="st-key-draw-position-map-"] img'))
            .filter(fresh).length >= models,
        moved: () => answers().length >= models && Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
            .some(e => fresh(e) && e.innerText.includes('moved 1 right')),
    };
    const watch = setInterval(() => {
        for (const [name, shown] of Object.entries(steps))
            if (window.mnistvizShown[name] === undefined && shown()) window.mnistvizShown[name] = performance.now();
        if (Object.keys(window.mnistvizShown).length === 3) clearInterval(watch);
    }, 5);
}"""
STEPS = {"answers": "pen up -> four answers on screen", "maps": "pen up -> position maps on screen"}
STEPS["moved"] = "nudge -> answers for the moved digit"


def one_round(page, models: int, jitter: int) -> dict[str, float]:
    """Seconds from pen up (or the nudge) to each step on screen, for one drawing.

    Each round's 7 is drawn `jitter` canvas pixels apart, so that no drawing is found in a cache.
    """
    box = _steady_canvas(page).bounding_box()
    left, top = box["x"] + jitter, box["y"] + jitter
    page.evaluate(WATCH, models)
    page.mouse.move(left + SEVEN[0][0], top + SEVEN[0][1])
    page.mouse.down()
    for x, y in SEVEN[1:]:
        page.mouse.move(left + x, top + y, steps=5)
    page.mouse.up()
    pen_up = page.evaluate("performance.now()")
    deadline = time.monotonic() + WAIT
    while page.evaluate("window.mnistvizShown.maps") is None or page.get_by_test_id("stStatusWidget").count():
        if time.monotonic() > deadline:
            raise TimeoutError("no position maps")
        time.sleep(0.05)
    page.get_by_role("button", name="arrow_forward").click()
    nudged = page.evaluate("performance.now()")
    while page.evaluate("window.mnistvizShown.moved") is None:
        if time.monotonic() > deadline + WAIT:
            raise TimeoutError("no answers for the moved digit")
        time.sleep(0.02)
    shown = page.evaluate("window.mnistvizShown")
    return {
        "answers": (shown["answers"] - pen_up) / 1000,
        "maps": (shown["maps"] - pen_up) / 1000,
        "moved": (shown["moved"] - nudged) / 1000,
    }


def server_memory_mb(url: str) -> tuple[float, float]:
    """The RSS of the Streamlit server listening at `url`, now and at its peak (Linux /proc), in MB."""
    port = f"--server.port\0{urlparse(url).port}\0"
    for folder in Path("/proc").iterdir():
        try:
            if folder.name.isdigit() and port in (folder / "cmdline").read_text():
                status = dict(line.split(":", 1) for line in (folder / "status").read_text().splitlines())
                return tuple(float(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
        except OSError:
            continue
    raise RuntimeError(f"no server process for {url}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.draw_steps", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--training", action="store_true", help="with a CNN training throughout")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    data_file = config.data_path()
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder) / "runs"
        models = save_notebook_models(runs)
        data = {"MNISTVIZ_DATA": str(data_file)} if data_file is not None else {}
        with serve(runs, Path(folder) / "streamlit.log", **data) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            errors: list[str] = []
            if args.training:
                trainer = start_training(browser, url, runs, errors)
                _wait_for_batches(trainer)
                trainer.context.close()
            page = _open_draw(browser, url, "student", errors)
            for round_number in range(args.rounds + 1):
                if round_number:
                    page.goto(url + "draw")
                    page.get_by_text("Draw a digit in the black square").wait_for()
                measured = one_round(page, models, jitter=3 * round_number - 15)
                if round_number:  # the first round loads the models and warms every cache: not a student's wait
                    for step, seconds in measured.items():
                        times[step].append(seconds)
            memory = server_memory_mb(url)
            browser.close()
    print(f"one session, {args.rounds} drawings, a CNN training throughout: {args.training}")
    print(f"the server's memory: {memory[0]:,.0f} MB RSS at the end, {memory[1]:,.0f} MB at its peak")
    for step, name in STEPS.items():
        p50, p95 = np.percentile(times[step], [50, 95])
        print(f"{name}: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(times[step]):.2f} s")
    for error in errors:
        print("error:", error)


if __name__ == "__main__":
    main()
