"""Run a model once and, when it fails, say which layer failed for which sample."""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from nas_core.errors import ArchitectureError

__all__ = ["check_runs", "locate_failure", "describe_input"]


def describe_input(x: object) -> str:
    """Shapes of a (nested) input, for error messages."""
    if isinstance(x, torch.Tensor):
        return f"Tensor{list(x.shape)}"
    if isinstance(x, (list, tuple)):
        return "(" + ", ".join(describe_input(v) for v in x) + ")"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {describe_input(v)}" for k, v in x.items()) + "}"
    return type(x).__name__


def _as_args(example_input: Any) -> tuple:
    return example_input if isinstance(example_input, tuple) else (example_input,)


def locate_failure(model: nn.Module, example_input: Any) -> tuple[str, nn.Module, str, BaseException] | None:
    """Run ``model`` on ``example_input``; on failure return (path, module, input shapes, error)."""
    names = {id(m): n for n, m in model.named_modules()}
    stack: list[tuple[nn.Module, str]] = []
    failed: list[tuple[nn.Module, str]] = []

    def pre(module: nn.Module, args: tuple) -> None:
        stack.append((module, describe_input(args)))

    def post(module: nn.Module, args: tuple, out: Any) -> None:
        stack.pop()

    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    try:
        with torch.no_grad():
            nn.Module.__call__(model, *_as_args(example_input))
    except Exception as err:  # noqa: BLE001 - reported with context
        module, shapes = stack[-1] if stack else (model, describe_input(example_input))
        failed.append((module, shapes))
        return names.get(id(module), "?") or "<root>", module, shapes, err
    finally:
        for h in handles:
            h.remove()
    return None


def check_runs(model: nn.Module, example_input: Any, sample: Mapping[str, object]) -> None:
    """Raise :class:`ArchitectureError` if ``model`` fails on ``example_input``."""
    was_training = model.training
    model.eval()
    try:
        failure = locate_failure(model, example_input)
    finally:
        model.train(was_training)
    if failure is None:
        return
    path, module, shapes, err = failure
    raise ArchitectureError(
        f"sample {dict(sample)} does not make a working network: layer {path!r} "
        f"({type(module).__name__}) failed on input {shapes}: {err}. "
        "Change the candidates so their output shapes fit the next layer, or exclude this sample "
        "(for example with a Filter)."
    ) from err
