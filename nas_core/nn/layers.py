"""Layers whose hyper-parameters can be :class:`~nas_core.space.ValueChoice` decisions.

Each is a subclass of its ``torch.nn`` namesake, built at the largest value of every
choice. Until frozen it runs the current sample by slicing its weights (weight sharing:
the first channels, the centre of the kernel), so it doubles as a supernet layer.
Freezing gives the plain ``torch.nn`` layer with the sliced weights copied in.
"""
from __future__ import annotations

import inspect
import itertools
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nas_core.errors import SpaceDefinitionError
from nas_core.space.expr import evaluate, expr_max, is_expr, leaf_choices
from nas_core.space.mutable import Branch, MutableModule

__all__ = [
    "MutableLayer",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "Linear",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "hparam",
    "hparams",
    "Parametrized",
]


def _bind(cls: type, args: tuple, kwargs: dict) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]  # the class's own constructor
    bound = sig.bind(None, *args, **kwargs)
    bound.apply_defaults()
    out = dict(bound.arguments)
    out.pop("self", None)
    for k, p in sig.parameters.items():
        if p.kind is inspect.Parameter.VAR_KEYWORD and k in out:
            out.update(out.pop(k))
    return out


def hparams(module: nn.Module) -> dict[str, Any]:
    """Constructor arguments of a mutable layer (values may be expressions); {} otherwise."""
    return dict(getattr(module, "init_args", {}))


def hparam(module: nn.Module, name: str) -> Any:
    """A hyper-parameter as an int/tuple or, for a mutable layer, possibly an expression.

    Shape and cost formulas read hyper-parameters through this so that the same formula
    serves ``nn.Conv2d`` and ``nas_core.nn.Conv2d``.
    """
    args = getattr(module, "init_args", None)
    if args is not None and name in args:
        return args[name]
    return getattr(module, name)


class MutableLayer(MutableModule):
    """Mixin recording constructor arguments; ``init_args`` may hold expressions."""

    torch_cls: type[nn.Module]
    init_args: dict[str, Any]

    def _record(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        init_args = _bind(self.torch_cls, args, kwargs)
        self.__dict__["init_args"] = init_args
        return {k: expr_max(v) if (is_expr(v) or isinstance(v, tuple)) else v for k, v in init_args.items()}

    def value_choices(self) -> dict[str, Any]:
        return {k: v for k, v in self.init_args.items() if leaf_choices(v)}

    def current_args(self, sample: Mapping[str, object] | None = None) -> dict[str, Any]:
        return {k: evaluate(v, sample) for k, v in self.init_args.items()}

    def is_mutable(self) -> bool:
        return bool(self.value_choices())

    def freeze(self, sample: Mapping[str, object]) -> nn.Module:
        args = self.current_args(sample)
        plain = self.torch_cls(**args)
        with torch.no_grad():
            self._copy_into(plain, args)
        plain.train(self.training)
        return plain

    def _copy_into(self, plain: nn.Module, args: dict[str, Any]) -> None:
        for name, p in list(plain.named_parameters(recurse=False)) + list(plain.named_buffers(recurse=False)):
            src = getattr(self, name)
            if src is None or p is None:
                continue
            if src.dim() == 0:
                p.copy_(src)
            else:
                p.copy_(self.slice_parameter(name, src, args))

    def slice_parameter(self, name: str, tensor: torch.Tensor, args: dict[str, Any]) -> torch.Tensor:
        """The part of parameter ``name`` (the full ``tensor``) that the layer built with ``args`` uses."""
        raise NotImplementedError


def _centre(tensor: torch.Tensor, dims: tuple[int, ...], sizes: tuple[int, ...]) -> torch.Tensor:
    for d, size in zip(dims, sizes):
        full = tensor.shape[d]
        if size > full:
            raise SpaceDefinitionError(f"cannot slice size {size} out of {full}")
        start = (full - size) // 2
        tensor = tensor.narrow(d, start, size)
    return tensor


class ConvNd(MutableLayer):
    """The shared base of the mutable ``Conv1d``/``Conv2d``/``Conv3d``: test ``isinstance(m,
    ConvNd)`` to treat any of them alike (e.g. to slice its weight for a sampled kernel)."""

    #: how many spatial dimensions the convolution has (1, 2 or 3)
    spatial_dims: int = 2
    # set by the torch convolution this class is mixed into
    weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        plain_args = self._record(args, kwargs)
        self.torch_cls.__init__(self, **plain_args)

    def spatial_tuple(self, v: Any) -> tuple[int, ...]:
        """``v`` (an int, or one per spatial dimension) as one int per spatial dimension."""
        return tuple(v) if isinstance(v, (tuple, list)) else (v,) * self.spatial_dims

    def slice_parameter(self, name: str, tensor: torch.Tensor, args: dict[str, Any]) -> torch.Tensor:
        out_c, in_c, groups = args["out_channels"], args["in_channels"], args["groups"]
        if name == "bias":
            return tensor[:out_c]
        w = tensor[:out_c, : in_c // groups]
        k = self.spatial_tuple(args["kernel_size"])
        return _centre(w, tuple(range(2, 2 + self.spatial_dims)), k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_mutable():
            return self.torch_cls.forward(self, x)
        a = self.current_args()
        w = self.slice_parameter("weight", self.weight, a)
        b = self.slice_parameter("bias", self.bias, a) if self.bias is not None else None
        if a.get("padding_mode", "zeros") != "zeros":
            raise SpaceDefinitionError("mutable convolutions support padding_mode='zeros' only.")
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self.spatial_dims]
        return conv(x, w, b, a["stride"], a["padding"], a["dilation"], a["groups"])


class Conv1d(ConvNd, nn.Conv1d):
    """``nn.Conv1d`` whose channels, kernel, stride, padding, dilation or groups may be choices."""

    torch_cls = nn.Conv1d
    spatial_dims = 1


class Conv2d(ConvNd, nn.Conv2d):
    """``nn.Conv2d`` whose channels, kernel, stride, padding, dilation or groups may be choices.

    For a depthwise convolution pass the same expression as ``in_channels`` and ``groups``.
    """

    torch_cls = nn.Conv2d
    spatial_dims = 2


class Conv3d(ConvNd, nn.Conv3d):
    """``nn.Conv3d`` whose hyper-parameters may be choices."""

    torch_cls = nn.Conv3d
    spatial_dims = 3


class Linear(MutableLayer, nn.Linear):
    """``nn.Linear`` whose ``in_features`` / ``out_features`` may be choices."""

    torch_cls = nn.Linear

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nn.Linear.__init__(self, **self._record(args, kwargs))

    def slice_parameter(self, name: str, tensor: torch.Tensor, args: dict[str, Any]) -> torch.Tensor:
        if name == "bias":
            return tensor[: args["out_features"]]
        return tensor[: args["out_features"], : args["in_features"]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_mutable():
            return nn.Linear.forward(self, x)
        a = self.current_args()
        b = self.slice_parameter("bias", self.bias, a) if self.bias is not None else None
        return F.linear(x, self.slice_parameter("weight", self.weight, a), b)


class _BatchNorm(MutableLayer):
    # set by the torch batch norm this class is mixed into
    weight: nn.Parameter
    bias: nn.Parameter
    running_mean: torch.Tensor | None
    running_var: torch.Tensor | None
    num_batches_tracked: torch.Tensor | None
    momentum: float | None
    eps: float
    track_running_stats: bool
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.torch_cls.__init__(self, **self._record(args, kwargs))

    def slice_parameter(self, name: str, tensor: torch.Tensor, args: dict[str, Any]) -> torch.Tensor:
        return tensor[: args["num_features"]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_mutable():
            return self.torch_cls.forward(self, x)
        a = self.current_args()
        n = a["num_features"]
        tracked = self.num_batches_tracked  # None without running stats
        if self.training and self.track_running_stats and tracked is not None:
            tracked.add_(1)
        # momentum None: a cumulative average (irrelevant without running stats)
        momentum = self.momentum if self.momentum is not None else 1.0 / float(tracked) if tracked is not None else 0.0
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean[:n] if self.running_mean is not None else None,
            self.running_var[:n] if self.running_var is not None else None,
            self.weight[:n] if self.weight is not None else None,
            self.bias[:n] if self.bias is not None else None,
            use_batch,
            momentum if self.training else 0.0,
            self.eps,
        )


class BatchNorm1d(_BatchNorm, nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose ``num_features`` may be a choice."""

    torch_cls = nn.BatchNorm1d


class BatchNorm2d(_BatchNorm, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose ``num_features`` may be a choice."""

    torch_cls = nn.BatchNorm2d


class BatchNorm3d(_BatchNorm, nn.BatchNorm3d):
    """``nn.BatchNorm3d`` whose ``num_features`` may be a choice."""

    torch_cls = nn.BatchNorm3d


class LayerNorm(MutableLayer, nn.LayerNorm):
    """``nn.LayerNorm`` over the last dimension, whose size may be a choice."""

    torch_cls = nn.LayerNorm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nn.LayerNorm.__init__(self, **self._record(args, kwargs))
        if not isinstance(evaluate(self.init_args["normalized_shape"], None), int) and is_expr(
            self.init_args["normalized_shape"]
        ):
            raise SpaceDefinitionError("a mutable LayerNorm normalizes one dimension: pass an int or a ValueChoice.")

    def slice_parameter(self, name: str, tensor: torch.Tensor, args: dict[str, Any]) -> torch.Tensor:
        return tensor[: args["normalized_shape"]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_mutable():
            return nn.LayerNorm.forward(self, x)
        n = self.current_args()["normalized_shape"]
        w = self.weight[:n] if self.weight is not None else None
        b = self.bias[:n] if self.bias is not None else None
        return F.layer_norm(x, (n,), w, b, self.eps)


class Parametrized(MutableLayer):
    """Any ``nn.Module`` class with choices among its constructor arguments, no weight sharing.

    ``Parametrized(nn.MultiheadAttention, embed_dim=64, num_heads=ValueChoice([2, 4]))``
    builds one instance per combination of the choices it reads (at most 64) and runs the
    current one; freezing returns that instance.
    """

    MAX_VARIANTS = 64

    def __init__(self, module_cls: type[nn.Module], *args: Any, **kwargs: Any) -> None:
        nn.Module.__init__(self)
        self.torch_cls = module_cls
        self.__dict__["init_args"] = _bind(module_cls, args, kwargs)
        leaves = leaf_choices(list(self.init_args.values()))
        combos = list(itertools.product(*(leaf.candidates for leaf in leaves)))
        if len(combos) > self.MAX_VARIANTS:
            raise SpaceDefinitionError(
                f"Parametrized({module_cls.__name__}) would build {len(combos)} variants (over "
                f"{self.MAX_VARIANTS}); use fewer choices or a weight-sharing layer from nas_core.nn."
            )
        self._leaves = leaves
        self.variants = nn.ModuleDict()
        for combo in combos:
            by_id = {id(leaf): v for leaf, v in zip(leaves, combo)}
            args_ = {k: _eval_by_id(v, by_id) for k, v in self.init_args.items()}
            self.variants[self._key(combo)] = module_cls(**args_)

    @staticmethod
    def _key(combo: tuple) -> str:
        return "v" + "_".join(str(c) for c in combo).replace(".", "p").replace("-", "m") if combo else "fixed"

    @property
    def leaves(self) -> list[Any]:
        """The ValueChoices the constructor arguments read, in the order :meth:`variant_for` takes values."""
        return list(self._leaves)

    def branches(self) -> list[Branch]:
        """One :class:`Branch` per combination of the choices' values (the order of :meth:`variant_for`)."""
        labels = [leaf.require_label() for leaf in self._leaves]
        return [Branch(tuple(zip(labels, combo)), self.variant_for(combo))
                for combo in itertools.product(*(leaf.candidates for leaf in self._leaves))]

    def variant_for(self, values: Sequence[Any]) -> nn.Module:
        """The instance built for ``values``: one value per choice of :attr:`leaves`, in order."""
        return self.variants[self._key(tuple(values))]

    def variant(self, sample: Mapping[str, object] | None = None) -> nn.Module:
        """The instance for ``sample`` (or for the current values)."""
        combo = tuple(evaluate(leaf, sample) for leaf in self._leaves)
        return self.variants[self._key(combo)]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.variant()(*args, **kwargs)

    def freeze(self, sample: Mapping[str, object]) -> nn.Module:
        return self.variant(sample)

    def active_children(self, sample: Mapping[str, object]) -> list[nn.Module]:
        return [self.variant(sample)]

    def extra_repr(self) -> str:
        return f"{self.torch_cls.__name__}, {self.init_args}"


def _eval_by_id(value: Any, by_id: Mapping[int, Any]) -> Any:
    if is_expr(value):
        return value._eval_by_id(by_id)
    if isinstance(value, tuple):
        return tuple(_eval_by_id(v, by_id) for v in value)
    if isinstance(value, list):
        return [_eval_by_id(v, by_id) for v in value]
    return value
