"""nas-shapes-torch: shape and cost formulas for torch.nn modules and torch functions."""
from __future__ import annotations

import nas_core

from nas_shapes_torch import conv, elementwise, linear, norm, pooling, reshape


@nas_core.hookimpl
def register_shape_formulas(register):
    register(conv.TARGETS, conv.conv)
    register(linear.TARGETS, linear.linear)
    register(elementwise.ACTIVATION_MODULES + elementwise.ACTIVATION_FUNCTIONS, elementwise.activation)
    register(elementwise.FREE_MODULES + elementwise.FREE_FUNCTIONS, elementwise.free)
    register(elementwise.BINARY_FUNCTIONS, elementwise.binary)
    register(pooling.POOL_MODULES, pooling.pool_module)
    for nd, names in pooling.POOL_FUNCTIONS.items():
        register(names, pooling.func_pools[nd])
    register(pooling.ADAPTIVE_MODULES, pooling.adaptive_module)
    for nd, names in pooling.ADAPTIVE_FUNCTIONS.items():
        register(names, pooling.func_adaptive[nd])
    register(norm.BN_MODULES, norm.batch_norm)
    register([__import__("torch").nn.Flatten], reshape.flatten_module)
    register(["flatten"], reshape.flatten_func)
    register(["view", "reshape"], reshape.view)
