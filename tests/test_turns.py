"""The benchmark's turn-taking: two threads train epoch by epoch in strict alternation, and a side that
fails never leaves the other waiting."""

import threading

from bench.turns import Turns


def _side(turns: Turns, side: int, epochs: int, log: list, fail_at: int | None = None) -> threading.Thread:
    timer = turns.timer(side)

    def train():
        try:
            for epoch in range(epochs):
                timer.on_epoch_begin(epoch)
                if epoch == fail_at:
                    raise RuntimeError("this side fails")
                log.append((side, epoch))
                timer.on_epoch_end(epoch)
            timer.on_train_end()
        except RuntimeError:
            turns.finish(side)

    return threading.Thread(target=train, daemon=True)


def _run(threads: list[threading.Thread]) -> None:
    for thread in reversed(threads):  # side 1 starts first and must still wait for side 0
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a side was left waiting for its turn"


def test_the_two_sides_train_their_epochs_in_strict_alternation():
    turns, log = Turns(), []
    _run([_side(turns, 0, 3, log), _side(turns, 1, 3, log)])
    assert log == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_a_side_with_more_epochs_goes_on_alone_once_the_other_is_done():
    turns, log = Turns(), []
    _run([_side(turns, 0, 1, log), _side(turns, 1, 3, log)])
    assert log == [(0, 0), (1, 0), (1, 1), (1, 2)]


def test_a_failing_side_does_not_leave_the_other_waiting():
    turns, log = Turns(), []
    _run([_side(turns, 0, 3, log, fail_at=1), _side(turns, 1, 3, log)])
    assert log == [(0, 0), (1, 0), (1, 1), (1, 2)]


def test_every_timed_epoch_of_a_side_alone_is_recorded():
    turns = Turns()
    turns.finish(1)
    timer = turns.timer(0)
    for epoch in range(2):
        timer.on_epoch_begin(epoch)
        timer.on_epoch_end(epoch)
    assert len(timer.seconds) == 2 and all(seconds >= 0 for seconds in timer.seconds)
