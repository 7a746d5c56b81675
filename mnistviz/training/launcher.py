"""The warm process: it imports TensorFlow and the training code once, then forks each local run's
training process from itself. A run then trains at once, instead of after some 7 s of a core spent
importing TensorFlow in a fresh interpreter.

`python -m mnistviz.training.launcher`, started by the server (executors.py). They talk in JSON lines:
the server writes a request per run to its stdin ({"runs", "run_id", "environment", "log", "server"}),
it answers on stdout, {"started": pid} at once and {"ended": pid, "code": exit code} when that process
has ended. It forks from its only thread, and importing TensorFlow starts none of its runtime, so each
child starts TensorFlow afresh. It ends when its stdin closes (the server went); the training processes
see for themselves that the server went, and stop keeping their epochs.
"""

import json
import os
import select
import sys
import traceback

from mnistviz.runs.store import process_alive
from mnistviz.training import fit, worker  # noqa: F401  fit: what each forked child would otherwise import

POLL_SECONDS = 0.1  # how soon an ended child is reported


def train_forked(request: dict) -> int:
    """In the forked child: leave the warm process's session and pipes, then train the run; its exit code."""
    os.setsid()  # Ctrl-C on the server reaches neither this nor the warm process
    quiet = os.open(os.devnull, os.O_RDONLY)
    output = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for target, source in ((0, quiet), (1, output), (2, output)):
        os.dup2(source, target)
    os.close(quiet)
    os.close(output)
    os.environ.clear()
    os.environ.update(request["environment"])
    server, start = request["server"]
    return worker.train_local(request["runs"], request["run_id"], lambda: not process_alive(server, start))


def fork(request: dict) -> int:
    """Fork a training process for `request`; its pid (the child never returns from here)."""
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = train_forked(request)
    except BaseException:  # noqa: B036  anything at all: it is said in the run's log, and the child ends
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def reap() -> None:
    """Report every child that has ended since the last look."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children at all
            return
        if pid == 0:
            return
        reply({"ended": pid, "code": os.waitstatus_to_exitcode(status)})


def serve() -> None:
    """Answer the server's requests until it closes stdin."""
    pending = b""
    while True:
        readable, _, _ = select.select([0], [], [], POLL_SECONDS)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                reply({"started": fork(json.loads(line))})
        reap()


if __name__ == "__main__":
    try:
        os.nice(worker.NICENESS)  # it and every training process yield the CPU to the dashboard
    except OSError:
        pass  # not allowed here: they train at the dashboard's priority
    serve()
