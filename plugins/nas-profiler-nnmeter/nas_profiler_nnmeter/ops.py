"""nn-Meter's view of one traced op: its kernel type (``conv``, ``bn``, ``relu``, ``add``...)
and nn-Meter's fusion rules (which pairs of kernel types one kernel may hold)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from torch import nn

from nas_core.shapes import hp

__all__ = ["DEFAULT_FUSION_RULES", "FusionRules", "PASSTHROUGH", "op_type", "pair"]

#: fusion rules for CPU runtimes that fuse conv/bn/activation (ONNX Runtime, TFLite): nn-Meter's format
DEFAULT_FUSION_RULES: dict[str, Any] = {
    "BF_conv_bn": {"obey": True},
    "BF_conv_relu": {"obey": True},
    "BF_dwconv_bn": {"obey": True},
    "BF_dwconv_relu": {"obey": True},
    "BF_bn_relu": {"obey": True},
    "BF_add_relu": {"obey": True},
    "BF_fc_relu": {"obey": False},
    "MON": {"obey": 0},
}

PASSTHROUGH = "passthrough"  # removed by the ONNX exporter in eval mode (Identity, Dropout, contiguous...)

_RELU_MODULES = (nn.ReLU, nn.ReLU6, nn.Hardtanh)
_FREE_MODULES = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
_ADD = {"add", "add_", "__add__", "__radd__", "__iadd__"}
_RELU = {"relu", "relu_", "relu6", "hardtanh", "hardtanh_", "clamp", "clamp_", "clip"}
_RESHAPE = {"flatten", "view", "reshape", "squeeze", "unsqueeze"}
_FREE = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "contiguous", "clone", "detach"}
# ONNX op types nn-Meter has no alias for keep their exporter name (nn-Meter predicts nothing for them)
_ONNX_NAME = {
    "mul": "mul", "__mul__": "mul", "__rmul__": "mul", "mul_": "mul", "sub": "Sub", "__sub__": "Sub",
    "div": "div", "__truediv__": "div", "sigmoid": "Sigmoid", "hardswish": "HardSwish", "silu": "Sigmoid-mul",
    "softmax": "Softmax", "matmul": "MatMul", "mean": "gap", "cat": "concat", "concat": "concat",
}


def pair(v: Any) -> list:
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def op_type(op: Any) -> tuple[str, dict[str, Any]]:
    """nn-Meter's IR type of a traced op (``conv``, ``bn``, ``relu``, ``add``, ``fc``...) and its attributes.

    Convolutions return ``"conv"``; whether one is a ``dwconv`` depends on the sample
    (groups == input channels, nn-Meter's rule) and is decided by :class:`KernelGraph`.
    """
    target = op.target
    if op.kind == "module":
        if isinstance(target, nn.Conv2d):
            return "conv", {"ks": hp(target, "kernel_size"), "strides": hp(target, "stride"), "groups": hp(target, "groups")}
        if isinstance(target, nn.BatchNorm2d):
            return "bn", {}
        if isinstance(target, _RELU_MODULES):
            return "relu", {}
        if isinstance(target, _FREE_MODULES):
            return PASSTHROUGH, {}
        if isinstance(target, nn.Linear):
            return ("fc" if op.inputs and len(op.inputs[0].shape) == 2 else "MatMul"), {}
        if isinstance(target, nn.MaxPool2d):
            s = target.stride if target.stride is not None else target.kernel_size
            return "maxpool", {"ks": target.kernel_size, "strides": s}
        if isinstance(target, nn.AvgPool2d):
            s = target.stride if target.stride is not None else target.kernel_size
            return "avgpool", {"ks": target.kernel_size, "strides": s}
        if isinstance(target, nn.AdaptiveAvgPool2d) and pair(target.output_size) == [1, 1]:
            return "gap", {}
        if isinstance(target, nn.Flatten):
            return "reshape", {}
        return type(target).__name__, {}
    name = op.name.rsplit(".", 1)[-1]  # "TensorBase.add" -> "add"
    if name in _ADD:
        return "add", {}
    if name in _RELU:
        return "relu", {}
    if name in _RESHAPE:
        return "reshape", {}
    if name in _FREE:
        return PASSTHROUGH, {}
    if name == "adaptive_avg_pool2d":
        return "gap", {}
    return _ONNX_NAME.get(name, name), {}


@dataclass
class FusionRules:
    """nn-Meter fusion rules (``fusion_rules.json``): fusible op pairs and the multiple-outbound rule."""

    pairs: frozenset[tuple[str, str]]
    mon: int = 0
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, rules: Mapping[str, Any]) -> "FusionRules":
        pairs = set()
        for name, rule in rules.items():
            if name.startswith("BF_") and isinstance(rule, Mapping) and rule.get("obey"):
                ops = name.split("_")[1:]
                if len(ops) == 2:
                    pairs.add((ops[0], ops[1]))
        mon = rules.get("MON", {})
        mon_value = mon.get("obey") if isinstance(mon, Mapping) else None
        return cls(frozenset(pairs), int(mon_value) if mon_value not in (None, False, True) else 0, dict(rules))

    def fusible(self, a: str, b: str) -> bool:
        return (a, b) in self.pairs

    @property
    def targets(self) -> frozenset[str]:
        """Op types that can be absorbed into a preceding kernel."""
        return frozenset(b for _, b in self.pairs)

