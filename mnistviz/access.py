"""Who may act on everyone's runs: a student on their own, the teacher on all. No Streamlit here.

With no teacher passcode set the server is single-user and everything is allowed. With one set,
a browser session may stop only the runs it started; deleting runs, stopping someone else's run
and clearing the queue need the teacher's passcode. Pages call the actions below, never the job
manager or the store directly, so a button that a crafted request clicks anyway still asks here.
"""

import hmac
from dataclasses import dataclass

from mnistviz.errors import MnistvizError
from mnistviz.jobs import JobManager
from mnistviz.store import RunStore

LOCKED = "only the teacher can do this: unlock with the teacher passcode in the sidebar"


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

    def may_stop(self, owner: str | None) -> bool:
        """A session may stop the runs it started; only the one in charge may stop the others'."""
        return self.in_charge or (owner is not None and owner == self.session)

    def may_delete(self) -> bool:
        return self.in_charge

    def may_clear_queue(self) -> bool:
        return self.in_charge


def passcode_matches(entered: str, passcode: str | None) -> bool:
    """Compare in constant time, so that response times do not reveal the passcode."""
    if not passcode or not entered:
        return False
    return hmac.compare_digest(entered.encode(), passcode.encode())


def stop_run(manager: JobManager, run_id: str, access: Access) -> bool:
    """Stop a run if this session may; False when it is not training or waiting."""
    job = manager.get(run_id)
    if job is None:
        return False
    if not access.may_stop(job.owner):
        raise MnistvizError("this run was started by someone else: " + LOCKED)
    return manager.stop(run_id)


def delete_runs(store: RunStore, run_ids: list[str], access: Access) -> None:
    if not access.may_delete():
        raise MnistvizError("deleting runs deletes them for the whole class: " + LOCKED)
    for run_id in run_ids:
        store.delete(run_id)


def clear_queue(manager: JobManager, access: Access) -> list[str]:
    """Drop every waiting run of every session; the runs already training go on."""
    if not access.may_clear_queue():
        raise MnistvizError("clearing the queue drops everyone's waiting runs: " + LOCKED)
    return manager.clear_queue()
