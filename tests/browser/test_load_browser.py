"""Ten students draw at once while a CNN trains on the same server: every one gets every answer, none an error.

The timing itself is bench/load.py's job (`python -m bench.load` prints p50/p95); this test keeps a
generous bound only, since the browsers share the server's two cores here.
"""

import pytest

from bench import load

pytestmark = pytest.mark.browser
SESSIONS = 10
BOUND = 30.0  # seconds from pen up to every answer shown, for any one drawing


def test_ten_sessions_draw_while_a_model_trains(browser, tmp_path, mnist_npz):
    runs = tmp_path / "runs"
    models = load.save_notebook_models(runs)
    with load.serve(runs, tmp_path / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        result = load.measure(browser, url, runs, models, sessions=SESSIONS, rounds=1)
    print(result.report(SESSIONS))
    assert result.errors == []
    assert result.trained_throughout
    assert len(result.latencies) == SESSIONS
    assert max(result.latencies) < BOUND
