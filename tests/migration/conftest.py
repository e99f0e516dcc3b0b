import pytest

from nas_core.testing import using_plugins
from nas_core.threads import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    """The migration tests train tiny networks: one intra-op thread is fastest on a busy machine."""
    with torch_threads(1):
        yield


@pytest.fixture(autouse=True, scope="module")
def _nni_plugins():
    """NNI's code runs on the plugins that replace NNI's classes: the migration tests run the guide's examples on
    them, registered here by name (the core's tests run with no plugin loaded: ``NAS_CORE_PLUGINS=``)."""
    import nas_profiler_flops
    import nas_profiler_nnmeter
    import nas_shapes_torch
    import nas_strategy_darts
    import nas_strategy_enas
    import nas_strategy_proxyless
    import nas_strategy_random
    import nas_trainer_script

    with using_plugins(nas_shapes_torch, nas_profiler_flops, nas_profiler_nnmeter, nas_strategy_darts,
                       nas_strategy_enas, nas_strategy_proxyless, nas_strategy_random, nas_trainer_script):
        yield
