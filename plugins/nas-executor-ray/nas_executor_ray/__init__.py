"""nas-executor-ray: run trials as Ray tasks (registry name ``ray``)."""
import nas_core

from nas_executor_ray.executor import RayExecutor

__all__ = ["RayExecutor"]


@nas_core.hookimpl
def register_executors(register):
    register("ray", RayExecutor)
