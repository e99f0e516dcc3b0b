"""ModelSpace: an ``nn.Module`` base class with the search-space API built in."""
from __future__ import annotations

import random as _random
from typing import Any, ContextManager, Iterator, Mapping

import torch
from torch import nn

from nas_core.errors import ArchitectureError
from nas_core.space.search_space import Choice, SearchSpace

__all__ = ["ModelSpace", "search_space"]


def search_space(model: nn.Module) -> SearchSpace:
    """The :class:`SearchSpace` of any module holding mutables (cached on the module)."""
    space = model.__dict__.get("_nas_space")
    if space is None:
        space = SearchSpace(model)
        model.__dict__["_nas_space"] = space
        if not isinstance(model, ModelSpace):
            _record_first_input(model)
    return space


def _record_first_input(model: nn.Module) -> None:
    """Remember the first input a plain module sees, so freeze can check shapes."""

    def hook(module: nn.Module, args: tuple) -> None:
        if args:
            module.__dict__["_nas_example_input"] = _example_of(args if len(args) > 1 else args[0])
        handle.remove()

    hook._nas_hook = True  # type: ignore[attr-defined]
    handle = model.register_forward_pre_hook(hook)


def _example_of(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        with torch._C.DisableTorchFunction():  # never seen by shape tracing
            return torch.zeros_like(x[:1] if x.dim() > 0 else x).detach()
    if isinstance(x, tuple):
        return tuple(_example_of(v) for v in x)
    if isinstance(x, list):
        return [_example_of(v) for v in x]
    return x


def _is_meta(args: tuple) -> bool:
    return any(isinstance(a, torch.Tensor) and a.is_meta for a in args)


class ModelSpace(nn.Module):
    """Subclass this instead of ``nn.Module`` to write a model space.

    Write ``__init__`` and ``forward`` as for any model, using LayerChoice, InputChoice,
    ValueChoice, Repeat and the layers of :mod:`nas_core.nn`. The space runs its current
    sample (the default one until told otherwise); a forward that fails is reported with
    the sample and the layer that failed.
    """

    @property
    def space(self) -> SearchSpace:
        return search_space(self)

    def choices(self) -> dict[str, Choice]:
        """Label to :class:`Choice` (kind, domain, default, where used)."""
        return dict(self.space.choices)

    def labels(self) -> list[str]:
        return self.space.labels

    def count(self) -> int:
        return self.space.count()

    def default(self) -> dict[str, Any]:
        return self.space.default()

    def random(self, seed: int | _random.Random | None = None) -> dict[str, Any]:
        return self.space.random(seed)

    def validate(self, sample: Mapping[str, object]) -> dict[str, Any]:
        return self.space.validate(sample)

    def freeze(self, sample: Mapping[str, object], example_input: Any = None) -> nn.Module:
        return self.space.freeze(sample, example_input)

    def activate(self, sample: Mapping[str, object]) -> ContextManager[dict[str, Any]]:
        return self.space.activate(sample)

    def set_current(self, sample: Mapping[str, object]) -> None:
        self.space.set_current(sample)

    def enumerate(self) -> Iterator[dict[str, Any]]:
        return self.space.enumerate()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "_nas_example_input" not in self.__dict__ and args and not kwargs and not _is_meta(args):
            self.__dict__["_nas_example_input"] = _example_of(args if len(args) > 1 else args[0])
        try:
            return super().__call__(*args, **kwargs)
        except ArchitectureError:
            raise
        except Exception as err:
            from nas_core.space.diagnose import locate_failure

            failure = locate_failure(self, args if len(args) > 1 else args[0]) if args and not kwargs else None
            where = ""
            if failure is not None:
                path, module, shapes, _ = failure
                where = f" in layer {path!r} ({type(module).__name__}) on input {shapes}"
            raise ArchitectureError(
                f"the space failed to run sample {self.space.current()}{where}: {err}. "
                "If this sample's shapes do not fit, change the candidates or exclude the sample."
            ) from err
