"""Training on a Ray cluster (MNISTVIZ_RAY_ADDRESS): each run is a Ray task running the same `worker.py`.

The dashboard keeps its queue and starts a task when the cluster has room for it; the task trains
into the runs folder, which every node sees at the same path (one machine, or a shared folder), and
the dashboard follows it there exactly as it follows a local process. Imported only on a cluster.
"""

import os
from pathlib import Path

import ray

from mnistviz.errors import MnistvizError

NAMESPACE = "mnistviz"
FORWARDED = ("MNISTVIZ_DATA", "KERAS_HOME", "TF_CPP_MIN_LOG_LEVEL")  # settings a worker needs as this server has them


def connect(address: str) -> None:
    """Join the cluster at `address` ("auto": the one this machine belongs to) as a driver, once per process."""
    if ray.is_initialized():
        return
    package = Path(__file__).resolve().parent.parent  # the `mnistviz` package folder
    try:
        ray.init(
            address=address,
            namespace=NAMESPACE,
            runtime_env={"py_modules": [str(package)]},  # the workers run this very code
            log_to_driver=False,
            configure_logging=False,
        )
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError for an address it cannot use
        raise MnistvizError(f"cannot reach the Ray cluster at {address!r} (MNISTVIZ_RAY_ADDRESS): {error}") from error


@ray.remote(max_retries=0)
def train_on_worker(runs: str, run_id: str, cpus: int, environment: dict) -> str:
    """Train one run on a cluster worker into the shared runs folder; its status when it ended."""
    os.environ.update(environment)
    os.environ["MNISTVIZ_TF_THREADS"] = str(cpus)  # TensorFlow uses the cores Ray gave this task, no more
    from mnistviz.training import worker

    return worker.run_in_this_process(runs, run_id, "ray")


class RayTask:
    """A run training as a Ray task."""

    def __init__(self, ref: ray.ObjectRef):
        self.ref = ref

    def exit_code(self) -> int | None:
        ready, _ = ray.wait([self.ref], timeout=0)
        if not ready:
            return None
        try:
            ray.get(self.ref)
        except Exception:  # the worker process died (killed, out of memory, node lost)
            return 1
        return 0

    def kill(self) -> None:
        ray.cancel(self.ref, force=True)


class RayTasks:
    """Starts each run as a Ray task of `cpus_per_job` cores, as many at a time as the cluster has room for."""

    name = "ray"

    def __init__(self, address: str, cpus_per_job: int = 1):
        connect(address)
        self.address, self.cpus = address, cpus_per_job
        resources = ray.cluster_resources()
        self.slots = max(1, int(resources.get("CPU", 0) // cpus_per_job))
        self._gpus = 1 if resources.get("GPU", 0) >= 1 else 0
        self._environment = {name: os.environ[name] for name in FORWARDED if name in os.environ}

    def start(self, runs: Path, run_id: str) -> RayTask:
        if not ray.is_initialized():
            raise MnistvizError(f"the connection to the training cluster at {self.address} is closed")
        task = train_on_worker.options(num_cpus=self.cpus, num_gpus=self._gpus)
        return RayTask(task.remote(str(runs.resolve()), run_id, self.cpus, self._environment))
