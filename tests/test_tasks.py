"""Background tasks: how long the rest will take, from the pace measured on them so far."""

from mnistviz.training.tasks import Task, seconds_left


def task(started=None, ended=None, progress=0.0, error=""):
    made = Task(("key",), lambda report: None, progress=progress, error=error, started=started, ended=ended)
    if ended is not None:
        made.done.set()
    return made


def test_time_left_is_the_running_tasks_rest_and_the_waiting_ones_at_the_measured_pace():
    done = task(started=0.0, ended=40.0, progress=1.0)
    running = task(started=100.0, progress=0.25)  # 10 s for a quarter: 30 s more
    waiting = [task(), task()]
    assert seconds_left([done, running, *waiting], now=110.0) == 30 + 2 * (40 + 40) / 2


def test_no_number_before_a_pace_is_known_and_a_failed_task_sets_none():
    assert seconds_left([task(started=0.0, progress=0.01), task()], now=5.0) is None
    assert seconds_left([task(), task()], now=5.0) is None
    failed = task(started=0.0, ended=0.1, progress=1.0, error="boom")
    assert seconds_left([failed, task(started=1.0, progress=0.5)], now=11.0) == 10.0
    assert seconds_left([task(started=0.0, ended=3.0, progress=1.0)], now=9.0) == 0.0
