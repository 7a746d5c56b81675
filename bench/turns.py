"""Two `fit` calls in two threads that train strictly in turn, one epoch each, timing their own epochs.

The machine's effective speed drifts by up to 2x within seconds (a fixed NumPy matmul on two
threads took 0.38 s to 0.78 s per repeat with both cores busy throughout). Timing the notebook's
run and then mnistviz's run compares two different stretches of that drift. Taking turns epoch by
epoch puts every notebook epoch beside a mnistviz epoch, so a slow stretch weighs on both alike.
"""

import threading
import time

import keras


class Turns:
    """A baton passed between sides 0, 1, 0, 1, ... at epoch boundaries; side 0 starts."""

    def __init__(self, sides: int = 2):
        self._sides = sides
        self._turn = 0
        self._finished: set[int] = set()
        self._changed = threading.Condition()

    def timer(self, side: int) -> "TurnTimer":
        """The callback for side `side`'s fit; add it last so the epoch's other work is inside the turn."""
        return TurnTimer(self, side)

    def wait(self, side: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._turn == side)

    def pass_on(self, side: int) -> None:
        """Hand the baton to the next side that still trains."""
        with self._changed:
            following = [(side + step) % self._sides for step in range(1, self._sides + 1)]
            self._turn = next((s for s in following if s not in self._finished), side)
            self._changed.notify_all()

    def finish(self, side: int) -> None:
        """Side `side` trains no more (done or failed): never wait for it again."""
        with self._changed:  # a reentrant lock: pass_on may take it again
            self._finished.add(side)
            if self._turn == side:
                self.pass_on(side)


class TurnTimer(keras.callbacks.Callback):
    """Waits for its side's turn at each epoch's start, times the epoch, passes the turn on at its end."""

    def __init__(self, turns: Turns, side: int):
        super().__init__()
        self.turns, self.side = turns, side
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.turns.wait(self.side)
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)
        self.turns.pass_on(self.side)

    def on_train_end(self, logs=None):
        self.turns.finish(self.side)
