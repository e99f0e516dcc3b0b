"""One dry run of a model space that records every op with symbolic shapes and costs.

The space runs once on the dummy input. Every LayerChoice candidate, Repeat block,
InputChoice subset and Parametrized variant is run, each under the condition that the
sample selects it. Modules with a formula are recorded whole (their inside is not
opened); other modules are opened and the torch functions they call are recorded through
function formulas. The result lists each op with its path, symbolic input/output shapes,
the condition under which it runs in the frozen model, and its symbolic costs.

The pieces: :mod:`~nas_core.shapes.records` (what is recorded),
:mod:`~nas_core.shapes.recorder` (intercepting torch calls),
:mod:`~nas_core.shapes.branches` (the mutable modules' branches),
:mod:`~nas_core.shapes.folding` (simplifying symbolic values); this module runs them.
"""
from __future__ import annotations

import logging
import warnings
from typing import Any, Callable

import torch
from torch import nn
from torch.utils._pytree import tree_map

from nas_core.errors import ShapeInferenceError, SpaceDefinitionError
from nas_core.nn.layers import MutableLayer, Parametrized
from nas_core.space.input_choice import InputChoice
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.model_space import search_space
from nas_core.space.mutable import MutableModule
from nas_core.space.repeat import Repeat
from nas_core.shapes import branches, recorder
from nas_core.shapes.formulas import FormulaTable, formula_table
from nas_core.shapes.records import (
    Check, ModuleCall, OpRecord, ShapeTrace, SymTensor, TracedInt, validity_error,
)
from nas_core.shapes.recorder import Recorder, hp, real_shapes, require, tensors

log = logging.getLogger("nas_core.shapes")  # debug records for troubleshooting (seeds' advice)

__all__ = ["SymTensor", "OpRecord", "ModuleCall", "Check", "ShapeTrace", "trace", "hp", "require", "TracedInt",
           "validity_error"]


def _as_args(dummy_input: Any) -> tuple:
    return dummy_input if isinstance(dummy_input, tuple) else (dummy_input,)


def _to_meta(obj: Any) -> Any:
    return tree_map(lambda v: torch.empty_like(v, device="meta") if isinstance(v, torch.Tensor) else v, obj)


def trace(model: nn.Module, dummy_input: Any, table: FormulaTable | None = None, device: str | None = None) -> ShapeTrace:
    """Dry-run ``model`` on ``dummy_input`` and record every op symbolically.

    Modules with a formula are not run: they return empty tensors of the inferred shape,
    so the dry run costs little even for large inputs. With ``device="meta"`` the torch
    functions between them run on the meta device too (weights swapped for meta tensors
    for the duration), falling back to a real run if the model cannot run on meta.

    Raises :class:`~nas_core.errors.ShapeInferenceError` naming the module path and type
    (and the two ways out) when an op without a formula sees a choice-dependent shape.
    """
    space = search_space(model)
    table = table or formula_table()
    log.debug("shape inference of %s: %d choices, dummy input %s, device %s", type(model).__name__, len(space),
              real_shapes(dummy_input) if isinstance(dummy_input, (torch.Tensor, tuple, list)) else type(dummy_input).__name__,
              device or "real")
    tracer = Recorder(model, table)
    saved_forward, handles = _install(model, tracer)
    own_hooks = {hid: fn for hid, fn in model._forward_pre_hooks.items() if getattr(fn, "_nas_hook", False)}
    for hid in own_hooks:
        del model._forward_pre_hooks[hid]
    was_training = model.training
    model.eval()
    args = _as_args(dummy_input)
    recorder.push(tracer)
    try:
        out = None
        if device == "meta":
            try:
                out = _run(model, tracer, _to_meta(args), meta=True)
            except (ShapeInferenceError, SpaceDefinitionError):
                raise
            except Exception:  # noqa: BLE001 - fall back to a real run below
                _uninstall(saved_forward, handles)
                tracer = Recorder(model, table)
                recorder.replace_top(tracer)
                saved_forward, handles = _install(model, tracer)
                out = None
        if out is None:
            out = _run(model, tracer, args, meta=False)
    except (ShapeInferenceError, SpaceDefinitionError):
        raise
    except Exception as err:
        where = tracer.names.get(id(tracer.stack[-1][0]), "?") if tracer.stack else "<root>"
        raise ShapeInferenceError(
            f"the dry run of the space failed in {where!r} with the default sample {space.default()}: "
            f"{type(err).__name__}: {err}. Shape inference runs the default sample for real; make sure it runs "
            "on the dummy input (check the dummy input's shape)."
        ) from err
    finally:
        recorder.pop()
        _uninstall(saved_forward, handles)
        model.train(was_training)
        model._forward_pre_hooks.update(own_hooks)
    out_sym = tracer.symify(out)
    log.debug("shape inference of %s: %d ops, %d shape checks recorded", type(model).__name__, len(tracer.ops),
              len(tracer.checks))
    return ShapeTrace(space, tracer.ops, tracer.checks, out_sym, tracer.calls)


def _run(model: nn.Module, tracer: Recorder, args: tuple, meta: bool) -> Any:
    for t in tensors(args):
        tracer.sym_of(t)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if meta:
            state = {k: torch.empty_like(v, device="meta") for k, v in
                     list(model.named_parameters(remove_duplicate=False)) + list(model.named_buffers(remove_duplicate=False))}
            with tracer:
                return torch.func.functional_call(model, state, args, tie_weights=True, strict=False)
        with tracer:
            return nn.Module.__call__(model, *args)


def _tracing_forward(m: nn.Module, tracer: Recorder) -> Callable[..., Any] | None:
    """The forward ``m`` runs during the dry run (None: its own)."""
    if isinstance(m, LayerChoice):
        return lambda *a, **k: branches.trace_layer_choice(tracer, m, *a, **k)
    if isinstance(m, InputChoice):
        return lambda inputs: branches.trace_input_choice(tracer, m, inputs)
    if isinstance(m, Repeat):
        return lambda x: branches.trace_repeat(tracer, m, x)
    if isinstance(m, Parametrized):
        return lambda *a, **k: branches.trace_parametrized(tracer, m, *a, **k)
    if isinstance(m, MutableModule) and not isinstance(m, MutableLayer):
        raise ShapeInferenceError(
            f"module {tracer.names.get(id(m))!r} is a custom mutable ({type(m).__name__}) that shape inference "
            "cannot open; register a formula for it with nas_core.shapes.register_formula(..., leaf=True)."
        )
    formula, is_leaf = tracer.table.for_module(m)
    if formula is None:
        log.debug("%s (%s): no formula, runs its own forward", tracer.names.get(id(m)), type(m).__name__)
        return None
    log.debug("%s (%s): shape formula %s%s", tracer.names.get(id(m)), type(m).__name__,
              getattr(formula, "__qualname__", type(formula).__name__), " (leaf)" if is_leaf else "")
    return lambda *a, **k: tracer.formula_forward(m, formula, is_leaf, *a, **k)


def _install(model: nn.Module, tracer: Recorder) -> tuple[list[tuple[nn.Module, Any]], list[Any]]:
    """Point every module's forward and hooks at ``tracer``; returns what :func:`_uninstall` undoes."""
    saved_forward: list[tuple[nn.Module, Any]] = []
    handles: list[Any] = []
    try:
        for m in model.modules():
            fwd = _tracing_forward(m, tracer)
            if fwd is not None:
                saved_forward.append((m, m.__dict__.get("forward")))
                m.forward = fwd
            handles.append(m.register_forward_pre_hook(tracer.pre_hook, with_kwargs=True))
            handles.append(m.register_forward_hook(tracer.post_hook, with_kwargs=True))
    except BaseException:
        _uninstall(saved_forward, handles)
        raise
    return saved_forward, handles


def _uninstall(saved_forward: list[tuple[nn.Module, Any]], handles: list[Any]) -> None:
    for h in handles:
        h.remove()
    for m, fwd in saved_forward:
        if fwd is None:
            del m.forward
        else:
            m.forward = fwd

