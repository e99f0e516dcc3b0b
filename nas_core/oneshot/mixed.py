"""Mixed layers: what each decision of a space becomes inside a supernet.

Every mixed layer reads one shared :class:`MixState`, which is either in *sample* mode
(one path: the sampled candidate runs, weights are sliced) or in *weighted* mode (each
label has a weight vector over its domain: DARTS' softmax, ProxylessNAS' binary gates).

In weighted mode:

* a :class:`MixedLayerChoice` returns ``sum_i w_i * candidate_i(x)`` over the paths the
  state lists; paths listed as *no-grad* run under ``torch.no_grad`` and keep only their
  output (enough for the gradient of their weight, none of their activations);
* a :class:`MixedInputChoice` returns ``sum_s w_s * reduce(inputs[s])`` over subsets;
* a :class:`MixedRepeat` returns ``sum_d w_d * x_d`` over depths;
* a :class:`MixedWidthLayer` (a ``nas_core.nn`` layer whose channels, features or kernel
  are choices) runs at the largest size and multiplies its output channels by
  ``P(width > c)`` and its kernel by ``P(kernel covers the tap)``: the expected sliced
  layer, computed once, with the same weights that slicing shares.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Mapping, Sequence, cast

import torch
import torch.nn.functional as F
from torch import nn

from nas_core.errors import ConfigError, SpaceDefinitionError
from nas_core.nn.layers import ConvNd, MutableLayer
from nas_core.space.expr import ValueChoice, ValueExpr, evaluate, expr_max, is_expr, leaf_choices
from nas_core.space.input_choice import InputChoice, reduce_inputs
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.repeat import Repeat
from nas_core.space.search_space import SearchSpace

__all__ = [
    "MixState",
    "MixedLayerChoice",
    "MixedInputChoice",
    "MixedRepeat",
    "MixedWidthLayer",
    "ExprDistribution",
]


class MixState:
    """The shared switch all mixed layers of one supernet read.

    ``mode`` is ``"sample"`` (``sample`` holds the path) or ``"weighted"`` (``weights``
    maps each label to a 1-D tensor over its domain). ``grad_paths`` / ``nograd_paths``
    optionally restrict which domain indices a weighted LayerChoice, InputChoice or Repeat
    computes (with and without gradient); by default every index is computed with gradient.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.mode = "sample"
        self.sample: dict[str, Any] = space.default()
        self.weights: dict[str, torch.Tensor] = {}
        self.grad_paths: dict[str, list[int]] = {}
        self.nograd_paths: dict[str, list[int]] = {}

    def paths(self, label: str, n: int) -> tuple[list[int], list[int]]:
        """(indices computed with gradient, indices computed without) for ``label``."""
        if label in self.grad_paths:
            return self.grad_paths[label], self.nograd_paths.get(label, [])
        return list(range(n)), []

    def weight(self, label: str, device: torch.device | None = None) -> torch.Tensor:
        """``label``'s weights, on ``device`` when given (the data's: under DataParallel a replica
        on another GPU mixes with them; the copy keeps the gradient to the logits)."""
        try:
            w = self.weights[label]
        except KeyError:
            raise ConfigError(
                f"the supernet is in weighted mode but has no weights for label {label!r}; give a weight vector "
                "for every label of the space."
            ) from None
        return w if device is None or w.device == device else w.to(device)


class _Mixed(nn.Module):
    """Base: holds the state without registering it as a submodule."""

    state: MixState

    def __init__(self, state: MixState, label: str) -> None:
        super().__init__()
        self.__dict__["state"] = state
        self.label = label

    def extra_repr(self) -> str:
        return f"label={self.label!r}"


def _add(total: Any, term: torch.Tensor) -> torch.Tensor:
    return term if total is None else total + term


class MixedLayerChoice(_Mixed):
    """A LayerChoice in a supernet: one candidate (sample) or a weighted sum (weighted)."""

    def __init__(self, choice: LayerChoice, state: MixState) -> None:
        super().__init__(state, choice.require_label())
        self.candidates = choice.candidates
        self.domain = list(choice.domain)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        st = self.state
        if st.mode == "sample":
            return self.candidates[str(st.sample[self.label])](*args, **kwargs)
        w = st.weight(self.label, _device_of(args, kwargs))
        with_grad, without = st.paths(self.label, len(self.domain))
        out = None
        for i in with_grad:
            out = _add(out, w[i] * _tensor_out(self.candidates[str(self.domain[i])](*args, **kwargs), self.label))
        for i in without:
            with torch.no_grad():
                y = _tensor_out(self.candidates[str(self.domain[i])](*args, **kwargs), self.label)
            out = _add(out, w[i] * y)
        return out


def _device_of(args: Sequence[Any], kwargs: Mapping[str, Any]) -> torch.device | None:
    """The device of the first tensor among the arguments (in lists and tuples too), if any."""
    stack = list(args) + list(kwargs.values())
    while stack:
        a = stack.pop(0)
        if isinstance(a, torch.Tensor):
            return a.device
        if isinstance(a, (list, tuple)):
            stack[:0] = list(a)
    return None


def _tensor_out(y: Any, label: str) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise SpaceDefinitionError(
            f"LayerChoice {label!r}: a candidate returned {type(y).__name__}; weighted (DARTS, ProxylessNAS) "
            "supernets sum candidate outputs, so every candidate must return one tensor of the same shape."
        )
    return y


class MixedInputChoice(_Mixed):
    """An InputChoice in a supernet: the sampled subset, or a weighted sum over subsets."""

    def __init__(self, choice: InputChoice, state: MixState) -> None:
        super().__init__(state, choice.require_label())
        self.n_candidates = choice.n_candidates
        self.reduction = choice.reduction
        self.domain = choice.domain
        self.varying_concat = choice.reduction == "concat" and len({len(s) for s in self.domain}) > 1

    def forward(self, inputs: Sequence[Any]) -> Any:
        if len(inputs) != self.n_candidates:
            raise SpaceDefinitionError(f"InputChoice {self.label!r} expects {self.n_candidates} inputs, got {len(inputs)}.")
        st = self.state
        if st.mode == "sample":
            return reduce_inputs([inputs[i] for i in st.sample[self.label]], self.reduction)
        if self.reduction == "none" or self.varying_concat:
            raise SpaceDefinitionError(
                f"InputChoice {self.label!r} (reduction={self.reduction!r}, n_chosen=None) gives outputs of "
                "different kinds or shapes for different subsets, so DARTS/ProxylessNAS cannot mix them. Use "
                "reduction 'sum' or 'mean', fix n_chosen, or search it with a sampling strategy (ENAS)."
            )
        w = st.weight(self.label, _device_of(inputs, {}))
        with_grad, without = st.paths(self.label, len(self.domain))
        out = None
        for i in list(with_grad) + list(without):
            subset = self.domain[i]
            if subset:  # the empty subset contributes nothing
                out = _add(out, w[i] * reduce_inputs([inputs[j] for j in subset], self.reduction))
        return out


class ExprDistribution:
    """The distribution of a value expression under per-label weights.

    Enumerates the combinations of the labels the expression reads (once); ``weights(st)``
    gives, for each distinct value, the summed product of label weights (a tensor).
    """

    def __init__(self, value: Any, space: SearchSpace) -> None:
        leaves = leaf_choices(value)
        self.labels = [leaf.require_label() for leaf in leaves]
        domains = [space.choices[l].domain for l in self.labels]
        self.values: list[Any] = []
        self.combos: list[list[tuple[int, ...]]] = []  # per value: the label index combinations giving it
        by_value: dict[str, int] = {}
        for idx in itertools.product(*(range(len(d)) for d in domains)):
            sample = {l: domains[k][i] for k, (l, i) in enumerate(zip(self.labels, idx))}
            v = evaluate(value, sample) if leaves else evaluate(value)
            key = repr(v)
            if key not in by_value:
                by_value[key] = len(self.values)
                self.values.append(v)
                self.combos.append([])
            self.combos[by_value[key]].append(idx)

    def weights(self, st: MixState, device: torch.device | None = None) -> list[torch.Tensor | float]:
        ws = [st.weight(l, device) for l in self.labels]
        out: list[torch.Tensor | float] = []
        for combos in self.combos:
            total: Any = 0.0
            for idx in combos:
                term: Any = 1.0
                for w, i in zip(ws, idx):
                    term = term * w[i]
                total = total + term
            out.append(total)
        return out


class MixedRepeat(_Mixed):
    """A Repeat in a supernet: the sampled depth, or a weighted sum of the outputs at each depth."""

    def __init__(self, repeat: Repeat, state: MixState) -> None:
        label = repeat.depth_choice.require_label() if isinstance(repeat.depth_choice, ValueChoice) else "<expr>"
        super().__init__(state, label)
        self.blocks = repeat.blocks
        self.depth_choice = repeat.depth_choice
        self.simple = isinstance(repeat.depth_choice, ValueChoice)
        self.dist = ExprDistribution(repeat.depth_choice, state.space) if is_expr(repeat.depth_choice) else None

    def forward(self, x: Any) -> Any:
        st = self.state
        if st.mode == "sample" or self.dist is None:
            depth = evaluate(self.depth_choice, st.sample) if st.mode == "sample" else self.depth_choice
            for block in self.blocks[:depth]:
                x = block(x)
            return x
        if self.simple:
            w = st.weight(self.label, _device_of((x,), {}))
            domain = self.depth_choice.candidates
            with_grad, without = st.paths(self.label, len(domain))
            wanted: dict[Any, Any] = {domain[i]: w[i] for i in list(with_grad) + list(without)}
            grad_depth = max((domain[i] for i in with_grad), default=0)
        else:
            wanted = dict(zip(self.dist.values, self.dist.weights(st, _device_of((x,), {}))))
            grad_depth = max(wanted)
        out = None
        top = max(wanted)
        for d in range(top + 1):
            if d > 0:
                if d > grad_depth:
                    with torch.no_grad():
                        x = self.blocks[d - 1](x)
                else:
                    x = self.blocks[d - 1](x)
            if d in wanted:
                out = _add(out, wanted[d] * x)
        return out


_OUT_ARG = {"Conv": "out_channels", "Linear": "out_features", "BatchNorm": "num_features", "LayerNorm": "normalized_shape"}
_IN_ARG = {"Conv": "in_channels", "Linear": "in_features"}


def _family(layer: nn.Module) -> str:
    if isinstance(layer, ConvNd):
        return "Conv"
    if isinstance(layer, nn.Linear):
        return "Linear"
    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
        return "BatchNorm"
    if isinstance(layer, nn.LayerNorm):
        return "LayerNorm"
    raise SpaceDefinitionError(
        f"{type(layer).__name__} has value choices but no weighted (DARTS/ProxylessNAS) form; use nas_core.nn "
        "Conv, Linear, BatchNorm or LayerNorm, a LayerChoice, or a sampling strategy (ENAS)."
    )


class MixedWidthLayer(_Mixed):
    """A ``nas_core.nn`` layer with value choices: sliced (sample) or channel/kernel-masked (weighted)."""

    out_ind: torch.Tensor  # buffers: per value of the width, the channels it keeps
    kernel_ind: torch.Tensor  # per value of the kernel, the taps it covers

    def __init__(self, layer: MutableLayer, state: MixState, path: str) -> None:
        super().__init__(state, ",".join(sorted({l.require_label() for l in leaf_choices(list(layer.value_choices().values()))})))
        self.layer = layer
        self.family = _family(layer)
        args = layer.init_args
        varying = {k for k, v in args.items() if leaf_choices(v)}
        allowed = {_OUT_ARG[self.family], _IN_ARG.get(self.family, "")}
        if self.family == "Conv":
            allowed |= {"kernel_size", "padding", "groups"}
        bad = sorted(varying - allowed)
        if bad:
            raise SpaceDefinitionError(
                f"layer {path!r} ({type(layer).__name__}): a value choice on {bad} cannot be mixed by DARTS or "
                f"ProxylessNAS (only {sorted(a for a in allowed if a)} can). Put the alternatives in a LayerChoice, "
                "or search this space with ENAS (sampling)."
            )
        space = state.space
        out_arg = _OUT_ARG[self.family]
        self.out_dist = ExprDistribution(args[out_arg], space) if out_arg in varying else None
        self.kernel_dist: ExprDistribution | None = None
        if self.family == "Conv":
            self._check_conv(args, varying, space, path)
        if self.out_dist is not None:
            n = expr_max(args[out_arg])
            ind = torch.stack([(torch.arange(n) < v).float() for v in self.out_dist.values])
            self.register_buffer("out_ind", ind, persistent=False)

    def _check_conv(self, args: Mapping[str, Any], varying: set[str], space: SearchSpace, path: str) -> None:
        layer = cast(ConvNd, self.layer)  # the "Conv" family
        nd = layer.spatial_dims
        tup = layer.spatial_tuple
        if "groups" in varying:
            combos = ExprDistribution((args["groups"], args["in_channels"], args["out_channels"]), space)
            if any(not (g == i == o) for g, i, o in combos.values):
                raise SpaceDefinitionError(
                    f"layer {path!r}: a value choice on groups is mixable only for depthwise convolutions "
                    "(groups == in_channels == out_channels); use a LayerChoice otherwise."
                )
        if "kernel_size" in varying or "padding" in varying:
            dist = ExprDistribution((args["kernel_size"], args["padding"]), space)
            kmax = tup(expr_max(args["kernel_size"]))
            pad_max = args["padding"]
            pmax = None if isinstance(evaluate(_first(pad_max, space)), str) else tup(expr_max(pad_max))
            dil = tup(args["dilation"])
            for k, p in dist.values:
                k = tup(k)
                ok = all((km - kk) % 2 == 0 for km, kk in zip(kmax, k))
                if isinstance(p, str):
                    ok = ok and (p == "same" or k == kmax)
                else:
                    p = tup(p)
                    ok = ok and pmax is not None and all(
                        (pm - pp) * 2 == d * (km - kk) for pm, pp, d, km, kk in zip(pmax, p, dil, kmax, k))
                if not ok:
                    raise SpaceDefinitionError(
                        f"layer {path!r}: kernel {k} with padding {p} is not the centre of the largest kernel {kmax} "
                        "with its padding, so DARTS/ProxylessNAS cannot share it by masking; use odd kernels with "
                        "padding k // 2 (or padding='same'), or a LayerChoice."
                    )
            self.kernel_dist = ExprDistribution(args["kernel_size"], space)
            masks = []
            for k in self.kernel_dist.values:
                m = torch.zeros(kmax)
                sl = tuple(slice((km - kk) // 2, (km - kk) // 2 + kk) for km, kk in zip(kmax, tup(k)))
                m[sl] = 1.0
                masks.append(m)
            self.register_buffer("kernel_ind", torch.stack(masks), persistent=False)
            self.pad = "same" if pmax is None else pmax
        else:
            self.pad = expr_max(args["padding"]) if is_expr(args["padding"]) else args["padding"]
        del nd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        st = self.state
        layer = self.layer
        if st.mode == "sample":
            return layer(x)
        if self.family == "Conv":
            conv_layer = cast(ConvNd, layer)
            w = conv_layer.weight
            if self.kernel_dist is not None:
                kw = _mix(self.kernel_dist.weights(st, x.device), self.kernel_ind)
                w = w * kw
            conv: Callable[..., torch.Tensor] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[conv_layer.spatial_dims]
            torch_conv = cast(nn.Conv2d, layer)  # any of nn.Conv1d/2d/3d: the attributes are the same
            y = conv(x, w, conv_layer.bias, torch_conv.stride, self.pad, torch_conv.dilation, torch_conv.groups)
        else:
            y = layer.torch_cls.forward(layer, x)
        if self.out_dist is not None:
            m = _mix(self.out_dist.weights(st, x.device), self.out_ind)
            shape = [1] * y.dim()
            dim = 1 if self.family in ("Conv", "BatchNorm") else y.dim() - 1
            shape[dim] = -1
            y = y * m.reshape(shape)
        return y


def _first(value: Any, space: SearchSpace) -> Any:
    leaves = leaf_choices(value)
    if not leaves:
        return value
    return evaluate(value, {l.require_label(): space.choices[l.require_label()].domain[0] for l in leaves})


def _mix(weights: list[Any], ind: torch.Tensor) -> torch.Tensor:
    """``sum_v weights[v] * ind[v]`` where weights are tensors or floats."""
    out: torch.Tensor | None = None
    for w, row in zip(weights, ind):
        term = w * row
        out = term if out is None else out + term
    assert out is not None, "a distribution has at least one value"
    return out
