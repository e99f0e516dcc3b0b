"""Shape-preserving modules and functions: activations, dropout, identity, element-wise math.

Costs: activations count one ``activation`` per output element; broadcasting arithmetic
and unary math one ``elementwise`` per output element; dropout, identity, casts and
copies nothing.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, numel, require, same_shape, sym_apply
from nas_shapes_torch._util import norm_dim, shape_of


def _costs(kind: str):
    def costs(target: Any, out: Any, *args: Any, **kwargs: Any) -> dict:
        return {kind: numel(out)}

    return costs


activation = Formula(same_shape, _costs("activation"), name="activation")
free = Formula(same_shape, name="shape-preserving")
unary = Formula(same_shape, _costs("elementwise"), name="unary")

ACTIVATION_MODULES = [nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
                      nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Mish, nn.Hardtanh,
                      nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.Softmax2d, nn.LogSigmoid, nn.Softsign, nn.Tanhshrink,
                      nn.Hardshrink, nn.Softshrink, nn.Threshold]
ACTIVATION_FUNCTIONS = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu",
                        "celu_", "gelu", "silu", "silu_", "hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_",
                        "sigmoid", "sigmoid_", "tanh", "tanh_", "softplus", "mish", "mish_", "hardtanh", "hardtanh_",
                        "softmax", "_softmax", "log_softmax", "softmin", "prelu", "rrelu", "rrelu_", "logsigmoid",
                        "softsign", "tanhshrink", "hardshrink", "softshrink", "threshold", "threshold_"]
FREE_MODULES = [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
                nn.Identity]
FREE_FUNCTIONS = ["dropout", "dropout_", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
                  "contiguous", "clone", "detach", "detach_", "to", "float", "half", "double", "bfloat16", "int", "long",
                  "bool", "type", "type_as", "requires_grad_", "cpu", "cuda", "flip", "fliplr", "flipud", "roll",
                  "zero_", "fill_", "copy_", "tril", "triu"]
UNARY_FUNCTIONS = ["exp", "exp_", "log", "log_", "log2", "log10", "log1p", "expm1", "sqrt", "sqrt_", "rsqrt", "rsqrt_",
                   "abs", "abs_", "neg", "neg_", "__neg__", "__pos__", "__abs__", "reciprocal", "reciprocal_", "square",
                   "erf", "erfc", "erfinv", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "exp2",
                   "clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_max", "nan_to_num", "cumsum", "cumprod",
                   "logical_not", "bitwise_not", "__invert__", "sign", "floor", "ceil", "round", "trunc", "frac",
                   "masked_fill", "masked_fill_"]


def _broadcast_dim(*d: int) -> int:
    rest = [x for x in d if x != 1]
    return rest[0] if rest else 1


def broadcast_shapes(*shapes: tuple) -> tuple:
    """Broadcast shapes (entries int or Sym), recording a check for choice-dependent ones."""
    n = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded):
        require(sym_apply(lambda *d: len({x for x in d if x != 1}) <= 1, *dims),
                f"cannot broadcast shapes {[list(s) for s in shapes]}")
        out.append(sym_apply(_broadcast_dim, *dims))
    return tuple(out)


def binary_infer(target: Any, a: Any, b: Any = None, *args: Any, **kwargs: Any) -> tuple:
    if b is None:
        b = kwargs.get("other", kwargs.get("exponent"))
    return broadcast_shapes(shape_of(a), shape_of(b))


binary = Formula(binary_infer, _costs("elementwise"), presence="any", name="broadcast")
BINARY_FUNCTIONS = ["add", "add_", "__add__", "__iadd__", "__radd__", "sub", "sub_", "__sub__", "__isub__", "__rsub__",
                    "rsub", "mul", "mul_", "__mul__", "__imul__", "__rmul__", "div", "div_", "__truediv__",
                    "__itruediv__", "__rtruediv__", "__div__", "true_divide", "floor_divide", "__floordiv__",
                    "remainder", "__mod__", "pow", "pow_", "__pow__", "__rpow__", "__ipow__", "maximum", "minimum",
                    "fmax", "fmin", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "__eq__", "__ne__", "__lt__",
                    "__le__", "__gt__", "__ge__", "__and__", "__or__", "__xor__", "logical_and", "logical_or",
                    "bitwise_and", "bitwise_or", "hypot"]


def _nary_infer(target: Any, *args: Any, **kwargs: Any) -> tuple:
    shapes = [shape_of(a) for a in list(args) + list(kwargs.values()) if hasattr(a, "shape")]
    return broadcast_shapes(*shapes)


nary = Formula(_nary_infer, _costs("elementwise"), name="broadcast-n")
NARY_FUNCTIONS = ["where", "lerp", "addcmul", "addcdiv", "lerp_", "addcmul_", "addcdiv_"]


def _glu_infer(target: Any, x: Any, dim: int = -1, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(kwargs.get("dim", dim), x.ndim)
    half = sym_apply(lambda n: n // 2, x.shape[dim])
    return (*x.shape[:dim], half, *x.shape[dim + 1:])


def _glu_module_infer(m: nn.GLU, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return _glu_infer(m, x, m.dim)


glu_function = Formula(_glu_infer, _costs("activation"), name="glu")
glu_module = Formula(_glu_module_infer, _costs("activation"), name="glu")


def _like_infer(target: Any, x: Any, other: Any = None, *args: Any, **kwargs: Any) -> tuple:
    other = other if other is not None else kwargs.get("other")
    return tuple(other.shape)


like_other = Formula(_like_infer, name="like-other")
LIKE_OTHER_FUNCTIONS = ["expand_as", "view_as", "reshape_as"]
