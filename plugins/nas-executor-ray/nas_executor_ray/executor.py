"""RayExecutor: each trial is a Ray task; a crashed worker surfaces as that task's error only.

A task given GPUs (``gpus_per_trial``) sees only its GPUs: Ray sets ``CUDA_VISIBLE_DEVICES``
for it, and ``NAS_TRIAL_DEVICE`` is ``cuda:0`` (see :func:`nas_core.experiment.trial.trial_device`),
as in the process pool. :meth:`RayExecutor.stop` cancels a running task by killing its
worker (``trial_timeout``, ``max_duration``).
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import Future
from typing import Any, Callable, Mapping

from nas_core.errors import ConfigError
from nas_core.interfaces import Executor

__all__ = ["RayExecutor"]


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import ray

    if ray.get_gpu_ids():  # Ray has set CUDA_VISIBLE_DEVICES to this task's GPUs
        os.environ["NAS_TRIAL_DEVICE"] = "cuda:0"
    else:  # a reused worker: forget a device of an earlier task
        os.environ.pop("NAS_TRIAL_DEVICE", None)
    return fn(*args, **kwargs)


class RayExecutor(Executor):
    """Runs trials as Ray tasks with ``cpus_per_trial`` CPUs (and ``gpus_per_trial`` GPUs) each.

    Without ``address`` a local Ray is started on loopback (127.0.0.1) with ``num_cpus``
    CPUs (default ``max_workers``), no dashboard, and this process's ``sys.path`` as the
    workers' ``PYTHONPATH`` (so spaces and trainers importable here are importable there).
    With ``address`` (``"ray://head:10001"`` or ``"auto"``) it joins an existing cluster;
    the modules your space and trainer live in must be installed on its nodes. Tasks are
    not retried by Ray (``max_retries=0``): the runner decides (its ``retries`` option).
    """

    can_stop = True

    def __init__(self, max_workers: int | None = None, address: str | None = None, num_cpus: int | None = None,
                 cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                 init_kwargs: Mapping[str, Any] | None = None) -> None:
        import ray

        for name, value in (("max_workers", max_workers), ("num_cpus", num_cpus)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"ray executor: {name} must be a positive integer, got {value!r}.")
        if address is not None and not isinstance(address, str):
            raise ConfigError(f"ray executor: address must be a string such as 'ray://host:10001' or 'auto', got {address!r}.")
        self._owns_ray = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if address:
                kwargs["address"] = address
            else:
                path = [p for p in sys.path if p and os.path.isdir(p)]
                kwargs.update(num_cpus=num_cpus or max_workers or os.cpu_count() or 1, _node_ip_address="127.0.0.1",
                              runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(path)}})
            kwargs.update(dict(init_kwargs or {}))
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as err:
                where = f"the Ray cluster at {address!r}" if address else "a local Ray"
                raise ConfigError(f"ray executor: could not start or join {where}: {err}. Check the address "
                                  "(`ray status` on the head node) or leave address unset for a local Ray.") from None
            self._owns_ray = True
        total = int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_trial, 1e-9))
        self.max_workers = max_workers or max(1, total)
        self._remote = ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, max_retries=0)(_call)
        self._refs: dict[Future, Any] = {}
        self.gpus_per_trial = gpus_per_trial

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        ref = self._remote.remote(fn, *args, **kwargs)
        fut = ref.future()
        self._refs[fut] = ref
        fut.add_done_callback(lambda f: self._refs.pop(f, None))
        return fut

    def stop(self, future: Future) -> bool:
        """Cancel the task behind ``future``, killing its worker if it is running (Ray starts a new one)."""
        import ray

        ref = self._refs.pop(future, None)
        if ref is None or future.done():
            return False
        ray.cancel(ref, force=True)
        return True

    def shutdown(self, wait: bool = True) -> None:
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False

    def __repr__(self) -> str:
        return f"RayExecutor(max_workers={self.max_workers})"
