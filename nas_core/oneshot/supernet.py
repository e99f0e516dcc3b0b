"""The supernet: a model space whose decisions are mixed layers, plus architecture parameters."""
from __future__ import annotations

import contextlib
import copy
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from nas_core.errors import ConfigError, SpaceDefinitionError
from nas_core.nn.layers import MutableLayer, Parametrized
from nas_core.space.input_choice import InputChoice
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.model_space import search_space
from nas_core.space.repeat import Repeat
from nas_core.space.search_space import SearchSpace
from nas_core.oneshot.mixed import MixedInputChoice, MixedLayerChoice, MixedRepeat, MixedWidthLayer, MixState

__all__ = ["Supernet", "ArchParameters"]


class ArchParameters(nn.Module):
    """One logit vector per label (over its domain, in domain order), kept apart from the weights."""

    def __init__(self, space: SearchSpace, init_std: float = 1e-3, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.labels = list(space.labels)
        self.domains = {l: space.choices[l].domain for l in self.labels}
        self.logits = nn.ParameterList(
            nn.Parameter(init_std * torch.randn(len(self.domains[l]), generator=generator)) for l in self.labels
        )
        self._pos = {l: i for i, l in enumerate(self.labels)}

    def __getitem__(self, label: str) -> nn.Parameter:
        return self.logits[self._pos[label]]

    def probs(self, temperature: float = 1.0) -> dict[str, torch.Tensor]:
        """Softmax of every label's logits (differentiable)."""
        return {l: torch.softmax(self[l] / temperature, dim=-1) for l in self.labels}

    def argmax(self) -> dict[str, Any]:
        """The sample of the most likely value of every label (ties: the first)."""
        return {l: copy.deepcopy(self.domains[l][int(torch.argmax(self[l].detach()))]) for l in self.labels}

    def describe(self) -> dict[str, list[float]]:
        return {l: [round(float(p), 4) for p in torch.softmax(self[l].detach(), -1)] for l in self.labels}


def _children(module: nn.Module, prefix: str = "") -> Iterator[tuple[nn.Module, str, nn.Module, str]]:
    for name, child in module._modules.items():
        if child is None:
            continue
        path = f"{prefix}.{name}" if prefix else name
        yield module, name, child, path
        yield from _children(child, path)


class Supernet(nn.Module):
    """A copy of ``model_space`` in which every decision is a mixed layer (see :mod:`nas_core.oneshot.mixed`).

    ``weighted=True`` (DARTS, ProxylessNAS) also checks that every decision can be mixed
    and builds channel and kernel masks; ``weighted=False`` (ENAS) only needs sample mode.
    The user's ``model_space`` is left untouched. :meth:`weight_parameters` and
    :meth:`arch_parameters` are disjoint: weights train on the weight split, architecture
    logits on the architecture split.
    """

    def __init__(self, model_space: nn.Module, *, weighted: bool = True, generator: torch.Generator | None = None) -> None:
        super().__init__()
        search_space(model_space)  # assign generated labels on the user's space first
        net = copy.deepcopy(model_space)
        net.__dict__.pop("_nas_space", None)
        self.space = search_space(net)
        if len(self.space) == 0:
            raise SpaceDefinitionError(
                f"{type(model_space).__name__} has no choices (no LayerChoice, InputChoice, ValueChoice or Repeat); "
                "there is nothing for a one-shot strategy to search."
            )
        self.state = MixState(self.space)
        self.weighted = weighted
        self._convert(net, weighted)
        self.net = net
        self.arch = ArchParameters(self.space, generator=generator)

    def _convert(self, net: nn.Module, weighted: bool) -> None:
        for parent, name, child, path in list(_children(net)):
            if isinstance(child, LayerChoice):
                new: nn.Module = MixedLayerChoice(child, self.state)
            elif isinstance(child, InputChoice):
                new = MixedInputChoice(child, self.state)
            elif isinstance(child, Repeat):
                new = MixedRepeat(child, self.state)
            elif isinstance(child, MutableLayer) and not isinstance(child, Parametrized) and child.is_mutable():
                if not weighted:
                    continue  # slicing by the current sample already is the single-path layer
                new = MixedWidthLayer(child, self.state, path)
            elif isinstance(child, Parametrized) and weighted and child.leaves:
                raise SpaceDefinitionError(
                    f"layer {path!r} is Parametrized({child.torch_cls.__name__}) with choices: its variants do not "
                    "share weights, so DARTS/ProxylessNAS cannot mix them. Use a LayerChoice of the variants, "
                    "nas_core.nn layers, or ENAS."
                )
            else:
                continue
            parent._modules[name] = new

    # -- parameters ------------------------------------------------------------------------
    def weight_parameters(self) -> list[nn.Parameter]:
        """The network's weights (shared by every path)."""
        return list(self.net.parameters())

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture logits, one vector per label."""
        return list(self.arch.parameters())

    # -- modes -----------------------------------------------------------------------------
    def set_sample(self, sample: Mapping[str, object]) -> dict[str, Any]:
        """Run a single path: ``sample`` (validated) from now on."""
        sample = self.space.validate(sample)
        self.space.set_current(sample)
        self.state.mode = "sample"
        self.state.sample = sample
        return sample

    def set_weights(self, weights: Mapping[str, torch.Tensor], grad_paths: Mapping[str, list[int]] | None = None,
                    nograd_paths: Mapping[str, list[int]] | None = None) -> None:
        """Run the weighted mixture: ``weights[label]`` over each domain (see :class:`MixState`)."""
        missing = [l for l in self.space.labels if l not in weights]
        if missing:
            raise ConfigError(f"set_weights needs a weight vector for every label; missing {missing}.")
        self.state.mode = "weighted"
        self.state.weights = dict(weights)
        self.state.grad_paths = dict(grad_paths or {})
        self.state.nograd_paths = dict(nograd_paths or {})

    @contextlib.contextmanager
    def sampled(self, sample: Mapping[str, object]) -> Iterator[dict[str, Any]]:
        """Context manager: run ``sample`` inside the block."""
        yield self.set_sample(sample)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.net(*args, **kwargs)

    def export(self) -> dict[str, Any]:
        """The argmax of the architecture logits (deterministic)."""
        return self.arch.argmax()
