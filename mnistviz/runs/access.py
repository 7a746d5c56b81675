"""Who may act on everyone's runs: a student on their own, the teacher on all. No Streamlit here.

With no teacher passcode set the server is single-user and everything is allowed. With one set,
a browser session may stop only the runs it started; deleting runs, stopping someone else's run
and clearing the queue need the teacher's passcode. Pages call the actions below, never the job
manager or the store directly, so a button that a crafted request clicks anyway still asks here.
"""

import hmac
import io
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from mnistviz.errors import MnistvizError
from mnistviz.runs import bundle
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import JobManager

LOCKED = "only the teacher can do this: unlock with the teacher passcode in the sidebar"
MIN_PASSCODE = 8  # characters; the README advises 12 or more, random words or letters
log = logging.getLogger("mnistviz.runs.access")


@dataclass(frozen=True)
class PasscodeSetting:
    """The teacher passcode as configured: unset (a single-user server), set, or broken (nobody unlocks).

    Only a setting that is wholly absent means single-user mode: an empty, blank or unreadable one
    fails closed, so a slip of the teacher's never hands every student the teacher's rights.
    """

    passcode: str | None = None
    problem: str = ""

    @classmethod
    def read(cls, environment: str | None, secret: str | None, secrets_problem: str = "") -> "PasscodeSetting":
        """From MNISTVIZ_TEACHER_PASSCODE (None: not set), else secrets.toml's teacher_passcode (None: absent)."""
        for value, where in ((environment, "MNISTVIZ_TEACHER_PASSCODE"), (secret, "teacher_passcode in secrets.toml")):
            if value is None:
                continue
            value = str(value)
            if not value.strip():
                return cls(problem=f"{where} is set but blank")
            if len(value.strip()) < MIN_PASSCODE:
                return cls(problem=f"{where} is shorter than {MIN_PASSCODE} characters")
            return cls(passcode=value.strip())
        if secrets_problem:
            return cls(problem=f".streamlit/secrets.toml cannot be read ({secrets_problem})")
        return cls()

    @property
    def single_user(self) -> bool:
        return self.passcode is None and not self.problem


class PasscodeGuard:
    """Backoff on wrong passcodes, per client and for the whole server; failures are logged, never the guess.

    A client's n-th wrong guess in a row makes it wait 2**(n-1) seconds (at most 5 minutes) before the
    next; the whole server takes at most `per_minute` guesses a minute from everyone together. With a
    passcode of 12 random letters, guessing it would take longer than the universe has existed.
    """

    def __init__(self, per_minute: int = 20, longest_wait: float = 300.0, clock=time.monotonic):
        self.per_minute, self.longest_wait, self.clock = per_minute, longest_wait, clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (wrong guesses in a row, when the last was)
        self._recent: deque[float] = deque()  # every guess of the last minute, from anyone

    def wait(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        with self._lock:
            return self._wait(client, self.clock())

    def _wait(self, client: str, now: float) -> float:
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        server = 60 - (now - self._recent[0]) if len(self._recent) >= self.per_minute else 0.0
        count, last = self._failures.get(client, (0, now))
        own = last + min(2 ** (count - 1), self.longest_wait) - now if count else 0.0
        return max(server, own, 0.0)

    def attempt(self, client: str, entered: str, passcode: str | None) -> "Attempt":
        """Check a guess, unless the client must still wait: then it is not even compared."""
        with self._lock:
            now = self.clock()
            waiting = self._wait(client, now)
            if waiting > 0:
                return Attempt(unlocked=False, checked=False, wait=waiting)
            self._recent.append(now)
            if passcode_matches(entered, passcode):
                self._failures.pop(client, None)
                return Attempt(unlocked=True, checked=True, wait=0.0)
            count = self._failures.get(client, (0, now))[0] + 1
            self._failures[client] = (count, now)
            if len(self._failures) > 10_000:  # bounded: forget the clients who stopped guessing longest ago
                oldest = sorted(self._failures, key=lambda key: self._failures[key][1])[:5_000]
                for key in oldest:
                    del self._failures[key]
            log.warning("wrong teacher passcode from client %s (%d in a row)", client, count)
            return Attempt(unlocked=False, checked=True, wait=self._wait(client, now))


@dataclass(frozen=True)
class Attempt:
    """What became of a passcode guess: unlocked, or refused (compared or not), and how long to wait."""

    unlocked: bool
    checked: bool
    wait: float

    @property
    def message(self) -> str:
        """What the sidebar says; empty when unlocked."""
        if self.unlocked:
            return ""
        if not self.checked:
            return f"Too many wrong passcodes: try again in {self.wait:.0f} s."
        later = f" Wait {self.wait:.0f} s before the next try." if self.wait >= 2 else ""
        return "That is not the teacher passcode." + later


GUARD = PasscodeGuard()  # one per server process: every session's guesses count together


@dataclass(frozen=True)
class Access:
    """What one browser session may do: `session` is its id, `teacher` whether it entered the passcode."""

    session: str | None
    passcode_set: bool
    teacher: bool = False

    @property
    def in_charge(self) -> bool:
        """The teacher, or anyone on a single-user server."""
        return self.teacher or not self.passcode_set

    def may_stop(self, owners: frozenset[str]) -> bool:
        """A session may stop the runs it asked for; only the one in charge may stop the others'."""
        return self.in_charge or (self.session is not None and self.session in owners)

    def may_delete(self) -> bool:
        return self.in_charge

    def may_clear_queue(self) -> bool:
        return self.in_charge


def passcode_matches(entered: str, passcode: str | None) -> bool:
    """Compare in constant time, so that response times do not reveal the passcode."""
    if not passcode or not entered:
        return False
    return hmac.compare_digest(entered.encode(), passcode.encode())


STOPPING = "Stopping after this batch; what it learned so far is kept."


def stop_run(manager: JobManager, run_id: str, access: Access) -> str:
    """Stop a run if this session may, or count its Stop on a run shared with others; what happened ("" if nothing).

    The teacher's Stop (or anyone's on a single-user server) stops the run at once; a student's stops
    it when every student who asked for the same run has pressed Stop too.
    """
    job = manager.get(run_id)
    if job is None:
        return ""
    if not access.may_stop(job.owners):
        raise MnistvizError("this run was started by someone else: " + LOCKED)
    if access.in_charge:
        return STOPPING if manager.stop(run_id) else ""
    still = manager.ask_to_stop(run_id, access.session)
    if not still:
        return STOPPING
    return (
        f"Your Stop is counted, and the run no longer counts as one of yours. {still} other "
        f"{'people' if still > 1 else 'person'} asked for this same run and still want{'' if still > 1 else 's'} it: "
        "it stops when they press Stop too, or when the teacher does."
    )


def delete_runs(store: RunStore, run_ids: list[str], access: Access) -> None:
    if not access.may_delete():
        raise MnistvizError("deleting runs deletes them for the whole class: " + LOCKED)
    for run_id in run_ids:
        store.delete(run_id)


def export_bundle(store: RunStore, run_ids: list[str], access: Access) -> bytes:
    """A bundle of these runs, in memory: the teacher's (one bundle can be hundreds of MB of the server's memory)."""
    if not access.in_charge:
        raise MnistvizError("exporting runs packs the class's models: " + LOCKED)
    out = io.BytesIO()
    bundle.export_runs(store, run_ids, out)
    return out.getvalue()


def import_bundle(store: RunStore, source, access: Access) -> list[str]:
    """Bring a bundle's runs in for the whole class (all or none): the teacher's, as a bundle is untrusted."""
    if not access.in_charge:
        raise MnistvizError("importing runs adds them for the whole class: " + LOCKED)
    return bundle.import_bundle(store, source)


def clear_queue(manager: JobManager, access: Access) -> list[str]:
    """Drop every waiting run of every session; the runs already training go on."""
    if not access.may_clear_queue():
        raise MnistvizError("clearing the queue drops everyone's waiting runs: " + LOCKED)
    return manager.clear_queue()
