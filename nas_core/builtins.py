"""The core's own components, registered through the same hooks as any plugin."""
from __future__ import annotations

from nas_core.hookspecs import hookimpl
from nas_core.interfaces.executor import InProcessExecutor


@hookimpl
def register_executors(register):
    from nas_core.experiment.process_pool import ProcessPoolExecutor

    register("in-process", InProcessExecutor)
    register("process-pool", ProcessPoolExecutor)
