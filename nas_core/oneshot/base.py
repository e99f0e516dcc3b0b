"""BaseOneShot: what every one-shot strategy shares (seeding, data, warm-up, export)."""
from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

import torch
from torch import nn

from nas_core.checks import check_choice, check_int, check_number
from nas_core.errors import ConfigError, ConfigTypeError, NasError
from nas_core.interfaces.strategy import OneShotStrategy
from nas_core.interfaces.trainer import Trainer
from nas_core.space.architecture import FORMATS, export_architecture
from nas_core.oneshot.data import forever, split_loaders, to_device
from nas_core.oneshot.export import (
    EXPORT_METHODS, Budget, ExportConfig, ExportReport, NoFeasibleExportError, checked_export, draw_samples, top_k_samples,
)
from nas_core.oneshot.retrain import (
    candidate_order, fresh_model, inherited_path, retrain_best, weight_step,
)
from nas_core.oneshot.sampling import FairPathSampler
from nas_core.oneshot.supernet import Supernet

__all__ = ["BaseOneShot", "check_positive_int", "check_positive", "default_warmup"]


def default_warmup(epochs: int) -> int:
    """Warm-up epochs when none are given: the first 40 % (at least one when there are two epochs or more)."""
    return 0 if epochs < 2 else max(1, (2 * epochs) // 5)


def check_positive_int(who: str, name: str, value: object, minimum: int = 1) -> int:
    """:func:`nas_core.checks.check_int` with a lower bound only (a :class:`ConfigError`)."""
    return check_int(who, name, value, minimum)


def check_positive(who: str, name: str, value: object, allow_zero: bool = False) -> float:
    """A number > 0 (>= 0 with ``allow_zero``), or a :class:`ConfigError`."""
    return check_number(who, name, value, 0.0, strict=not allow_zero)


def _length(loader: Any) -> int:
    """Batches in one pass of ``loader`` (0 when it has no length)."""
    try:
        return len(loader)
    except TypeError:
        return 0


def _first_batches(loader: Any, n: int) -> list[Any]:
    """The first ``n`` batches of ``loader`` (fewer if it is shorter; none for ``n == 0``)."""
    out: list[Any] = []
    if n <= 0 or loader is None:
        return out
    for batch in loader:
        out.append(batch)
        if len(out) >= n:
            break
    return out


class BaseOneShot(OneShotStrategy):
    """Trains a :class:`Supernet` of the space with a trainer's loaders, loss and optimizer.

    Subclasses set :attr:`weighted` and implement :meth:`_search` (the training loop) and
    :meth:`_argmax` (the distribution's most likely sample). ``fit`` runs under a forked,
    seeded torch RNG: the same seed gives the same exported architecture whatever ran before.
    ``on_epoch(epoch, epochs, info)`` (optional) is called after each epoch, and
    ``on_export(done, total)`` after each of the checked export's retrainings: the experiment
    runner uses them for progress.

    *Warm-up*: for the first ``warmup_epochs`` (default :func:`default_warmup`, 40 % of the
    epochs) the architecture does not move and the weights train one path per batch, drawn
    by a :class:`FairPathSampler` (every candidate of a label equally often).

    *Export*: ``export_mode="checked"`` (default) ranks the most probable architectures
    within the budget (plus a few sampled ones) by their validation accuracy with the
    supernet's inherited weights (:mod:`nas_core.oneshot.export`, settings in
    ``export_config``), then retrains the best few of them alone for a few steps and returns
    the most accurate (:mod:`nas_core.oneshot.retrain`); ``"argmax"`` takes the most likely
    sample unchecked. The budget is
    the penalty's baseline (or the filter's max); :attr:`export_report` says what was done.
    """

    weighted: ClassVar[bool] = True
    #: the weights train on the weighted mixture of every path (DARTS), not on single paths
    mixture_weights: ClassVar[bool] = False
    WARMUP_PATIENCE: ClassVar[int] = 1000

    def __init__(self, *, epochs: int = 10, seed: int = 0, arch_data: str = "split", arch_fraction: float = 0.5,
                 gradient_clip: float | None = 5.0, warmup_epochs: int | None = None,
                 export_mode: str = "checked", export_config: ExportConfig | None = None) -> None:
        who = type(self).__name__
        self.epochs = check_positive_int(who, "epochs", epochs)
        self.seed = check_positive_int(who, "seed", seed, minimum=0)
        self.arch_data = check_choice(who, "arch_data", arch_data, ("split", "val"))
        self.arch_fraction = check_positive(who, "arch_fraction", arch_fraction)
        self.gradient_clip = None if gradient_clip is None else check_positive(who, "gradient_clip", gradient_clip)
        self.warmup_epochs = (default_warmup(self.epochs) if warmup_epochs is None
                              else check_positive_int(who, "warmup_epochs", warmup_epochs, minimum=0))
        if export_mode not in EXPORT_METHODS:
            raise ConfigError(f"{who} export_mode must be one of {EXPORT_METHODS}, got {export_mode!r}.")
        self.export_mode = export_mode
        if export_config is not None and not isinstance(export_config, ExportConfig):
            raise ConfigTypeError(f"{who} export_config must be an ExportConfig, got {type(export_config).__name__}.")
        self.export_config = export_config or ExportConfig()
        self.export_report: ExportReport | None = None
        self._arch_data: Any = None
        self._weight_data: Any = None
        self._trainer: Any = None
        self._model_space: nn.Module | None = None
        self._fair: FairPathSampler | None = None
        self.supernet: Supernet | None = None
        self.history: list[dict[str, Any]] = []
        self.on_epoch: Callable[[int, int, dict[str, Any]], None] | None = None
        self.on_export: Callable[[int, int], None] | None = None
        self._sample: dict[str, Any] | None = None

    # -- OneShotStrategy ---------------------------------------------------------------------
    def fit(self, model_space: nn.Module, trainer: Trainer) -> None:
        """Train the supernet of ``model_space`` with ``trainer``'s pieces; then :meth:`export` the choice."""
        if not isinstance(model_space, nn.Module):
            raise ConfigError(f"{type(self).__name__}.fit needs a model space (an nn.Module), got {type(model_space).__name__}.")
        weight_data, arch_data = split_loaders(trainer, self.arch_data, self.arch_fraction, self.seed)
        device = trainer.device
        self.history = []
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(self.seed)
            state = random.getstate()
            random.seed(self.seed)
            try:
                gen = torch.Generator().manual_seed(self.seed)
                self.supernet = Supernet(model_space, weighted=self.weighted, generator=gen).to(device)
                parallel = getattr(trainer, "parallel", None)  # e.g. DataParallel over a device list
                if callable(parallel):
                    self.supernet.net = parallel(self.supernet.net)
                self._prepare(model_space, trainer)
                self._arch_data, self._weight_data = arch_data, weight_data
                self._fair = FairPathSampler(self.supernet.arch.domains, torch.Generator().manual_seed(self.seed + 7))
                self._device, self._trainer, self._model_space = device, trainer, model_space
                self._search(self.supernet, trainer, weight_data, arch_data, device)
                self._sample = self.supernet.space.validate(self._choose(self.supernet))
            finally:
                random.setstate(state)
                self._arch_data = self._weight_data = self._trainer = self._model_space = None

    def export(self, file: str | os.PathLike | None = None, fmt: str = "name") -> dict[str, Any]:
        """The chosen sample (deterministic); with ``file``, also written as architecture JSON (seed 004)."""
        if self._sample is None or self.supernet is None:
            raise NasError(f"{type(self).__name__}.export() before fit(): call strategy.fit(model_space, trainer) first.")
        if fmt not in FORMATS:
            raise ConfigError(f"unknown architecture format {fmt!r}; use one of {FORMATS}.")
        if file is not None:
            export_architecture(self.supernet.space, self._sample, fmt=fmt, file=file)
            if self.export_report is not None:
                Path(file).with_suffix(".export.json").write_text(json.dumps(
                    {"strategy": repr(self), **self.export_report.as_dict()}, indent=1, default=repr) + "\n")
        return dict(self._sample)

    def current_architecture(self) -> dict[str, Any]:
        """The most likely sample now (no checking against data): what NNI's
        ``ArchitectureCheckpoint`` wrote after each epoch."""
        if self.supernet is None:
            raise NasError(f"{type(self).__name__}.current_architecture() before fit(): there is no supernet yet.")
        return self.supernet.space.validate(self._argmax(self.supernet))

    def probabilities(self) -> dict[str, list[float]]:
        """Each label's current probability of each candidate, in domain order (stored per epoch)."""
        if self.supernet is None:
            raise NasError(f"{type(self).__name__}.probabilities() before fit(): there is no supernet yet.")
        return self.supernet.arch.describe()

    def candidates(self) -> dict[str, list[str]]:
        """Each label's candidates as text, in the order of :meth:`probabilities`."""
        if self.supernet is None:
            raise NasError(f"{type(self).__name__}.candidates() before fit(): there is no supernet yet.")
        return {l: [v if isinstance(v, str) else json.dumps(v) for v in d] for l, d in self.supernet.arch.domains.items()}

    # -- for subclasses ----------------------------------------------------------------------
    def _prepare(self, model_space: nn.Module, trainer: Any) -> None:
        """Build what needs the space (profilers named by registry, controllers)."""

    def _search(self, supernet: Supernet, trainer: Any, weight_data: Any, arch_data: Any,
                device: torch.device) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _argmax(self, supernet: Supernet) -> Mapping[str, Any]:
        """The distribution's most likely sample (what ``export_mode="argmax"`` exports)."""
        return supernet.export()

    def _budget(self) -> Budget | None:
        """The bound the export must meet: the penalty's baseline (``nonlinear`` positive or absolute, a target)."""
        penalty = getattr(self, "penalty", None)
        nonlinear = getattr(penalty, "nonlinear", "positive")
        if penalty is None or nonlinear == "linear":
            return None
        return Budget(penalty.profiler.profile, penalty.baseline, getattr(penalty.profiler, "unit", ""),
                      target=nonlinear == "absolute")

    def _unchecked_objective(self) -> bool:
        """True when a hardware term without a bound steers the search: ranking by accuracy alone would ignore it."""
        penalty = getattr(self, "penalty", None)
        return penalty is not None and getattr(penalty, "nonlinear", "positive") == "linear"

    def _likely(self, supernet: Supernet, k: int, budget: Budget) -> list[dict[str, Any]]:
        """The ``k`` most probable samples within ``budget``."""
        return [s for _, s in top_k_samples(supernet.arch.probs(), supernet.arch.domains, k, budget.feasible)]

    def _sampled(self, supernet: Supernet, n: int, budget: Budget, generator: torch.Generator) -> list[dict[str, Any]]:
        """``n`` draws from the distribution within ``budget``."""
        return draw_samples(supernet.arch.probs(), supernet.arch.domains, n, generator, budget.feasible)

    def _choose(self, supernet: Supernet) -> Mapping[str, Any]:
        if self.export_mode == "argmax" or self._unchecked_objective():
            sample = dict(self._argmax(supernet))
            why = "argmax" if self.export_mode == "argmax" else "argmax (hardware objective without a bound)"
            self.export_report = ExportReport(why, sample)
            return sample
        cfg = self.export_config
        budget = self._budget() or Budget(lambda s: 0.0, None)
        budget = budget.cached()
        gen = torch.Generator().manual_seed(self.seed + 41)
        self._tune(supernet)
        batches = _first_batches(self._arch_data, cfg.batches)
        calibration = _first_batches(self._weight_data, cfg.bn_batches)
        likely = self._likely(supernet, cfg.top_k, budget)
        sampled = self._sampled(supernet, cfg.sampled, budget, gen)
        try:
            self.export_report = checked_export(supernet, batches, budget, device=self._device, generator=gen,
                                                likely=likely, sampled=sampled, explore=cfg.explore,
                                                explore_floor=cfg.floor_share(budget), tie_band=cfg.tie_band,
                                                calibration=calibration)
            self._retrain(supernet, batches, budget)
        except NoFeasibleExportError as err:  # a soft penalty whose budget nothing meets: the cheapest likely one
            if budget.hard:
                raise
            likely = self._likely(supernet, cfg.top_k, Budget(lambda s: 0.0, None))
            cheapest = min(likely, key=budget.cost)
            warnings.warn(f"{err} Exporting the cheapest of the {len(likely)} most probable architectures "
                          f"({budget.cost(cheapest):g}{' ' + budget.unit if budget.unit else ''}).", stacklevel=2)
            self.export_report = ExportReport("checked (nothing within the budget: the cheapest likely one)",
                                              dict(cheapest))
        return self.export_report.sample

    def _retrain(self, supernet: Supernet, batches: list[Any], budget: Budget) -> None:
        """Retrain the supernet's best ``export_config.retrain_top`` candidates alone; export the best of them."""
        cfg, report = self.export_config, self.export_report
        assert report is not None
        if cfg.retrain_top == 0 or len(report.ranked) < 2:
            return
        length = _length(self._weight_data)
        steps = cfg.retrain_steps or (max(1, round(cfg.retrain_epochs * length)) if length else 0)
        if steps < 1:
            warnings.warn(f"{type(self).__name__}: the export's candidates are not retrained: the weight data has no "
                          "length to count retrain_epochs in; set ExportConfig(retrain_steps=...).", stacklevel=3)
            return
        seed = self.seed + 53
        if cfg.retrain_init == "fresh":
            assert self._model_space is not None
            space = self._model_space
            open_model = lambda s, k: fresh_model(space, s, self._device, k)  # noqa: E731
        else:
            open_model = lambda s, k: inherited_path(supernet, s)  # noqa: E731
        order = candidate_order(cfg.retrain_order, cfg.floor(budget))
        report.supernet_pick = report.sample
        report.sample, report.retrained = retrain_best(
            report.ranked, cfg.retrain_top, open_model, self._trainer, self._weight_data, batches, steps,
            self._device, seed, cfg.tie_band, order, cfg.retrain_repeats, self.on_export)
        report.retrain = {"top": cfg.retrain_top, "steps": steps, "init": cfg.retrain_init,
                          "order": cfg.retrain_order if budget.limit is not None else "supernet",
                          "repeats": cfg.retrain_repeats}

    def _tune(self, supernet: Supernet) -> None:
        """``export_config.tune_steps`` weight steps on fair single paths (a fresh optimizer of the trainer's).

        By default one epoch of the weight data when the weights trained on the weighted mixture
        (:attr:`mixture_weights`): such weights judge single paths poorly (DARTS' discretisation
        gap); measured on the digits tables, an epoch of single paths raised the rank correlation
        between inherited-weight and stand-alone accuracy in 8 of 9 DARTS runs.
        """
        steps = self.export_config.tune_steps
        if steps is None:
            steps = _length(self._weight_data) if self.mixture_weights else 0
        if not steps or self._weight_data is None:
            return
        weights = supernet.weight_parameters()
        optimizer = self._trainer.make_optimizer(weights)
        supernet.train()
        data = forever(self._weight_data)
        for _ in range(steps):
            x, y = to_device(next(data), self._device)
            self._warmup_step(supernet, self._trainer, x, y, optimizer, weights)

    def _warmup_step(self, supernet: Supernet, trainer: Any, x: Any, y: Any, optimizer: Any,
                     weights: list[nn.Parameter]) -> float:
        """A weight step on the next fair path (warm-up: the architecture does not move)."""
        assert self._fair is not None
        sample = self._fair()
        for _ in range(self.WARMUP_PATIENCE):
            if self._trainable(sample):
                break
            sample = self._fair()
        else:
            raise NoFeasibleExportError(
                f"{type(self).__name__} warm-up: {self.WARMUP_PATIENCE} fair samples in a row were rejected by the "
                "filter; widen its range.")
        supernet.set_sample(sample)
        return self._weight_step(supernet, trainer, x, y, optimizer, weights)

    def _trainable(self, sample: Mapping[str, Any]) -> bool:
        """Whether a sample may be trained (a strategy with a filter rejects what it rejects)."""
        return True

    def _weight_step(self, supernet: nn.Module, trainer: Any, x: Any, y: Any, optimizer: Any,
                     weights: list[nn.Parameter]) -> float:
        """One optimizer step on the supernet weights (the architecture as currently set); returns the loss."""
        return weight_step(supernet, trainer, x, y, optimizer, weights, self.gradient_clip)

    def _end_epoch(self, epoch: int, info: dict[str, Any]) -> None:
        info = {"epoch": epoch + 1, **info}
        self.history.append(info)
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, self.epochs, info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(epochs={self.epochs}, seed={self.seed})"
