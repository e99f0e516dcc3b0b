"""A complete nas-core plugin: a profiler counting the weighted layers of a frozen model."""
import nas_core


class LayerCount(nas_core.Profiler):
    unit = "layers"

    def __init__(self, model_space, dummy_input=None):
        self.space = nas_core.search_space(model_space)

    def profile(self, sample):
        frozen = self.space.freeze(sample)
        return float(sum(1 for m in frozen.modules() if list(m.parameters(recurse=False))))


@nas_core.hookimpl
def register_profilers(register):
    register("layer-count", LayerCount)
