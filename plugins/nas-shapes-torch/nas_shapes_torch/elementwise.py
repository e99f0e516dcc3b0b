"""Shape-preserving modules and functions: activations, dropout, identity, element-wise math."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, numel, require, same_shape, sym_apply


def _costs(kind: str):
    def costs(target: Any, out: Any, *args: Any, **kwargs: Any) -> dict:
        return {kind: numel(out)}

    return costs


activation = Formula(same_shape, _costs("activation"), name="activation")
free = Formula(same_shape, name="shape-preserving")

ACTIVATION_MODULES = [nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
                      nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Mish, nn.Hardtanh,
                      nn.Softmax, nn.LogSoftmax, nn.Softmin]
ACTIVATION_FUNCTIONS = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu",
                        "silu", "hardswish", "hardsigmoid", "sigmoid", "sigmoid_", "tanh", "tanh_", "softplus", "mish",
                        "hardtanh", "hardtanh_", "softmax", "log_softmax", "softmin", "prelu"]
FREE_MODULES = [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Identity]
FREE_FUNCTIONS = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "contiguous", "clone", "detach",
                  "to", "float", "half", "double", "type_as", "requires_grad_", "cpu", "cuda"]


def _broadcast(a: Any, b: Any) -> tuple:
    sa = tuple(a.shape) if hasattr(a, "shape") else ()
    sb = tuple(b.shape) if hasattr(b, "shape") else ()
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + sa
    sb = (1,) * (n - len(sb)) + sb
    out = []
    for x, y in zip(sa, sb):
        require(sym_apply(lambda p, q: p == q or p == 1 or q == 1, x, y),
                f"cannot broadcast shapes {list(sa)} and {list(sb)}")
        out.append(sym_apply(lambda p, q: q if p == 1 else p, x, y))
    return tuple(out)


def binary_infer(target: Any, a: Any, b: Any = None, *args: Any, **kwargs: Any) -> tuple:
    if b is None:
        b = kwargs.get("other")
    return _broadcast(a, b)


binary = Formula(binary_infer, _costs("elementwise"), presence="any", name="broadcast")
BINARY_FUNCTIONS = ["add", "add_", "__add__", "__iadd__", "__radd__", "sub", "sub_", "__sub__", "__isub__", "__rsub__",
                    "mul", "mul_", "__mul__", "__imul__", "__rmul__", "div", "div_", "__truediv__", "__itruediv__",
                    "__rtruediv__", "true_divide"]
