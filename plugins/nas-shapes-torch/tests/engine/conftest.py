"""The shape engine's tests trace ``torch.nn`` models and name the FLOPs and parameter
profilers: each test registers the formula packs and profilers it relies on in a fresh
registry (``nas_plugin``), so the tests mean the same whatever ``NAS_CORE_PLUGINS`` says."""
import pytest


@pytest.fixture(autouse=True)
def _shape_plugins(nas_plugin):
    import nas_profiler_flops
    import nas_profiler_params
    import nas_shapes_mobile
    import nas_shapes_torch

    for module, distribution in ((nas_shapes_torch, "nas-shapes-torch"), (nas_shapes_mobile, "nas-shapes-mobile"),
                                 (nas_profiler_flops, "nas-profiler-flops"), (nas_profiler_params, "nas-profiler-params")):
        nas_plugin(module, name=distribution.removeprefix("nas-"), distribution=distribution)
