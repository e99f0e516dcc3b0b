"""Short stand-alone retraining of the checked export's best candidates.

The supernet's inherited weights are a weak judge of which architecture trains best on
its own (on the digits tables their rank correlation with stand-alone accuracy is
-0.07..0.64). :func:`retrain_best` takes the few candidates the supernet ranked highest,
trains each alone for a fixed number of steps with the trainer's loss and optimizer, scores
it on the same validation batches, and returns the best (ties within ``tie_band`` binomial
standard errors go to the costliest, as in the checked export).

Each candidate starts either from ``"fresh"`` weights (the user's space frozen to the
candidate, every layer re-initialised under a seed: a short stand-alone training, the
recipe the final retraining follows) or from its ``"inherited"`` supernet weights (the
supernet restored after each candidate). Every candidate runs under the same seed on the
same batches.
"""
from __future__ import annotations

import contextlib
import copy
import math
from typing import Any, Callable, ContextManager, Iterator, Mapping, Sequence

import torch
from torch import nn

from nas_core.errors import ConfigError
from nas_core.oneshot.data import count_targets, forever, to_device

__all__ = ["RETRAIN_INITS", "RETRAIN_ORDERS", "fresh_model", "inherited_path", "model_accuracy", "weight_step",
           "train_steps", "retrain_best", "by_supernet_score", "filling_the_budget", "candidate_order", "best_of"]

RETRAIN_INITS = ("fresh", "inherited")
RETRAIN_ORDERS = ("supernet", "filling")

OpenModel = Callable[[Mapping[str, Any], int], ContextManager[nn.Module]]


@contextlib.contextmanager
def fresh_model(model_space: nn.Module, sample: Mapping[str, Any], device: torch.device,
                seed: int) -> Iterator[nn.Module]:
    """``model_space`` frozen to ``sample``, re-initialised under ``seed`` as the experiment runner's trials are
    (every layer with ``reset_parameters``; others keep the space's weights, sliced to the sample)."""
    from nas_core.experiment.trial import reset_weights
    from nas_core.space.model_space import search_space

    model = search_space(model_space).freeze(sample)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        reset_weights(model)
    yield model.to(device)


@contextlib.contextmanager
def inherited_path(supernet: Any, sample: Mapping[str, Any]) -> Iterator[nn.Module]:
    """The supernet running ``sample`` alone; its weights and buffers are restored on exit."""
    saved = copy.deepcopy(supernet.net.state_dict())
    was_training = supernet.training
    try:
        supernet.set_sample(sample)
        yield supernet
    finally:
        supernet.net.load_state_dict(saved)
        supernet.train(was_training)


def weight_step(model: nn.Module, trainer: Any, x: Any, y: Any, optimizer: torch.optim.Optimizer,
                params: list[nn.Parameter], clip: float | None = None) -> float:
    """One optimizer step of ``params`` on ``trainer.loss(model(x), y)`` (gradient norm clipped to ``clip``);
    returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss = trainer.loss(model(x), y)
    loss.backward(inputs=params)
    if clip is not None:
        nn.utils.clip_grad_norm_(params, clip)
    optimizer.step()
    return float(loss.detach())


def train_steps(model: nn.Module, trainer: Any, data: Iterator[Any], steps: int, device: torch.device) -> float:
    """``steps`` optimizer steps of ``model`` (a fresh ``trainer.make_optimizer``) on batches of ``data``;
    returns the mean training loss."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = trainer.make_optimizer(params)
    model.train()
    total = 0.0
    for _ in range(steps):
        x, y = to_device(next(data), device)
        total += weight_step(model, trainer, x, y, optimizer, params)
    return total / max(steps, 1)


@torch.no_grad()
def model_accuracy(model: nn.Module, batches: Sequence[Any], device: torch.device) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on ``batches``."""
    was_training = model.training
    model.eval()
    correct, total = 0, 0
    try:
        for batch in batches:
            x, y = to_device(batch, device)
            correct += int((model(x).argmax(dim=-1) == y).sum())
            total += int(y.numel())
    finally:
        model.train(was_training)
    return correct / max(total, 1)


def by_supernet_score(ranked: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The checked export's candidates, best supernet accuracy first (then the costliest, then the earliest)."""
    order = sorted(range(len(ranked)), key=lambda i: (-ranked[i]["accuracy"], -ranked[i]["cost"], i))
    return [ranked[i] for i in order]


def filling_the_budget(ranked: Sequence[Mapping[str, Any]], floor: float) -> list[Mapping[str, Any]]:
    """The candidates in turns: the best by supernet accuracy, then the best of those costing at least ``floor``
    (the budget band), and so on (each once), then the rest by supernet accuracy.

    The supernet favours cheap paths (they train fastest in shared weights), so its top few
    are often all far below the budget; taking turns hands the retraining, a better judge,
    the best budget-filling candidates beside them.
    """
    overall = list(by_supernet_score(ranked))
    band = [r for r in overall if r["cost"] >= floor]
    out: list[Mapping[str, Any]] = []
    taken: set[int] = set()
    for pair in zip(overall, band):
        for r in pair:
            if id(r) not in taken:
                taken.add(id(r))
                out.append(r)
    return out + [r for r in overall if id(r) not in taken]


Order = Callable[[Sequence[Mapping[str, Any]]], Sequence[Mapping[str, Any]]]


def candidate_order(name: str, floor: float | None) -> Order:
    """The order ``retrain_best`` takes candidates in: ``"supernet"`` (:func:`by_supernet_score`) or ``"filling"``
    (:func:`filling_the_budget` with ``floor``; without a floor, i.e. without a budget, the supernet order)."""
    if name == "filling" and floor is not None:
        return lambda ranked: filling_the_budget(ranked, floor)
    return by_supernet_score


def retrain_best(ranked: Sequence[Mapping[str, Any]], top: int, open_model: OpenModel, trainer: Any,
                 weight_data: Any, batches: Sequence[Any], steps: int, device: torch.device, seed: int,
                 tie_band: float = 0.0,
                 order: Order = by_supernet_score,
                 repeats: int = 1,
                 progress: Callable[[int, int], None] | None = None,
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Retrain the first ``top`` of ``ranked`` in ``order`` (default: best supernet accuracy first) for ``steps``
    steps each, ``repeats`` times; pick the best mean accuracy.

    ``open_model(sample, seed)`` gives the model to train (:func:`fresh_model` initialised under
    ``seed``, or :func:`inherited_path`); it is opened once per repeat. Repeat ``k`` of every
    candidate runs under torch seed ``seed + k`` on the same ``steps`` batches of
    ``weight_data`` (its shuffling generator rewound to where it was, then, for ``k > 0``,
    reseeded with ``seed + k``: another batch order) and is scored on ``batches``; the choice
    follows :func:`best_of` on the mean over the repeats (ties: on the examples of every
    repeat). Returns ``(chosen sample, retrained)``, where ``retrained`` lists each
    candidate's sample, cost, supernet accuracy, mean retrained accuracy (``accuracy``) and
    each repeat's (``accuracies``), in ``order``. ``progress(done, total)`` (optional) is
    called after each of the ``len(chosen) x repeats`` trainings.
    """
    if top < 1 or not ranked:
        raise ConfigError(f"retrain_best needs top >= 1 and at least one candidate, got top={top!r} and "
                          f"{len(ranked)} candidates.")
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"retrain_best needs repeats >= 1 (an integer), got {repeats!r}.")
    chosen = list(order(ranked))[:top]
    retrained: list[dict[str, Any]] = []
    n_examples = count_targets(batches)
    found = getattr(weight_data, "generator", None)  # a DataLoader's shuffling generator
    loader_rng = found if isinstance(found, torch.Generator) else None
    loader_state = loader_rng.get_state() if loader_rng is not None else None
    total, done = len(chosen) * repeats, 0
    for r in chosen:
        accs, losses = [], []
        for k in range(repeats):
            with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
                torch.manual_seed(seed + k)
                if loader_rng is not None and loader_state is not None:
                    loader_rng.set_state(loader_state)  # every candidate sees the same batches in the same order
                    if k:
                        loader_rng.manual_seed(seed + k)
                with open_model(r["sample"], seed + k) as model:
                    losses.append(train_steps(model, trainer, forever(weight_data), steps, device))
                    accs.append(model_accuracy(model, batches, device))
            done += 1
            if progress is not None:
                progress(done, total)
        retrained.append({"sample": dict(r["sample"]), "cost": r["cost"], "supernet_accuracy": r["accuracy"],
                          "accuracy": sum(accs) / repeats, "accuracies": accs, "train_loss": sum(losses) / repeats})
    if loader_rng is not None and loader_state is not None:
        loader_rng.set_state(loader_state)
    return best_of(retrained, tie_band, n_examples * repeats), retrained


def best_of(scored: Sequence[Mapping[str, Any]], tie_band: float, n_examples: int) -> dict[str, Any]:
    """The sample of the most accurate of ``scored``; accuracies within ``tie_band`` binomial standard errors
    (on ``n_examples``) of the best are ties, won by the costliest, then the earliest."""
    top_acc = max(r["accuracy"] for r in scored)
    band = tie_band * math.sqrt(max(top_acc * (1 - top_acc), 1e-4) / max(n_examples, 1))
    ties = [i for i, r in enumerate(scored) if r["accuracy"] >= top_acc - band - 1e-12]
    best = max(ties, key=lambda i: (scored[i]["cost"], -i))
    return dict(scored[best]["sample"])
