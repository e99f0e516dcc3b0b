"""TrainerAdapter: a nas-core Trainer built from NNI-style pieces.

NNI's one-shot trainers took the user's ``loss``, ``metrics`` function, ``optimizer``
object and datasets directly. :class:`TrainerAdapter` turns those pieces into the
:class:`~nas_core.Trainer` the one-shot strategies drive (``train_loader``, ``val_loader``,
``loss``, ``make_optimizer``, ``device``), and trains a frozen model with them too
(``fit``), so the same object serves a search and the retraining of its export.

* ``optimizer``: an optimizer object built on the user's ``model.parameters()`` is re-created
  with the same class and hyper-parameters on whatever weights are trained (the supernet's,
  a frozen model's): :func:`nas_core.training.rebuild_optimizer`.
* ``metrics(output, target)`` may return a number or a dict of numbers
  (:func:`nas_core.training.metrics_dict`).
* ``log_frequency=N`` logs the loss and metrics every N weight steps on the
  ``nas_core.trainer`` logger.
* ``device``: ``"cpu"``, ``"cuda:1"``, an index, or a list of GPU indices (the model is
  wrapped in :class:`torch.nn.DataParallel` over them: :meth:`TrainerAdapter.parallel`).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Sized, cast

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from nas_core.errors import ConfigError
from nas_core.interfaces.trainer import Trainer
from nas_core.training import as_dataset, metrics_dict, rebuild_optimizer, resolve_devices

__all__ = ["TrainerAdapter"]

log = logging.getLogger("nas_core.trainer")

MetricsFn = Callable[[torch.Tensor, torch.Tensor], Any]


class TrainerAdapter(Trainer):
    """A Trainer from the user's own pieces (NNI's trainer arguments).

    Data: ``dataset_train`` and ``dataset_valid``, or one ``dataset`` (ProxylessNAS: the
    strategy splits it for the weights and the architecture; validation metrics are then
    measured on it too). ``loss`` defaults to cross-entropy. ``objective`` names the metric
    a search maximises: by default ``"accuracy"`` when the metrics give one, else the
    first metric, else the negated loss (``"neg_loss"``).
    """

    def __init__(self, *, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None, metrics: MetricsFn | None = None,
                 optimizer: torch.optim.Optimizer | None = None, dataset: Any = None, dataset_train: Any = None,
                 dataset_valid: Any = None, batch_size: int = 64, workers: int = 0, device: Any = None,
                 log_frequency: int | None = None, num_epochs: int = 1, objective: str | None = None,
                 seed: int = 0) -> None:
        if dataset is not None and dataset_train is not None:
            raise ConfigError("give dataset= (split for weights and architecture) or dataset_train=/dataset_valid=, "
                              "not both.")
        train = dataset if dataset is not None else dataset_train
        if train is None:
            raise ConfigError(
                "the trainer needs data: dataset_train= and dataset_valid= (torch Datasets, e.g. your CIFAR10(...) "
                "objects, or (inputs, targets) tensors), or dataset= for ProxylessTrainer. NNI's guide defines them "
                "but forgets to pass them; pass them to the trainer."
            )
        if loss is not None and not callable(loss):
            raise ConfigError(f"loss must be callable (output, target) -> tensor, e.g. nn.CrossEntropyLoss(); got "
                              f"{type(loss).__name__}.")
        if metrics is not None and not callable(metrics):
            raise ConfigError(f"metrics must be a function (output, target) -> float or dict; got {type(metrics).__name__}.")
        for name, value, low in (("batch_size", batch_size, 1), ("workers", workers, 0), ("num_epochs", num_epochs, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}.")
        if log_frequency is not None and (isinstance(log_frequency, bool) or not isinstance(log_frequency, int)
                                          or log_frequency < 1):
            raise ConfigError(f"log_frequency must be a positive number of steps or None, got {log_frequency!r}.")
        if optimizer is not None:
            rebuild_optimizer(optimizer, [nn.Parameter(torch.zeros(1))])  # fails now, not mid-search
        self.train_data = as_dataset(train, "dataset" if dataset is not None else "dataset_train")
        self.valid_data = as_dataset(dataset_valid, "dataset_valid") if dataset_valid is not None else self.train_data
        self.user_loss = loss
        self.metrics = metrics
        self.optimizer = optimizer
        self.training_optimizer: torch.optim.Optimizer | None = None
        self.batch_size, self.workers, self.num_epochs = batch_size, workers, num_epochs
        self.main_device, self.device_ids = resolve_devices(device)
        self.log_frequency = log_frequency
        self.seed = seed
        self._objective = objective
        self.epoch = 0
        self.steps = 0
        self._last: tuple[torch.Tensor, Any, torch.Tensor] | None = None

    # -- the pieces one-shot strategies drive ------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.main_device

    @property
    def objective(self) -> str:  # type: ignore[override]
        return self._objective or "accuracy"

    def parallel(self, module: nn.Module) -> nn.Module:
        """``module`` wrapped in DataParallel when ``device`` listed several GPUs, else itself."""
        if self.device_ids:
            return nn.DataParallel(module, device_ids=self.device_ids)
        return module

    def _loader(self, data: Dataset, shuffle: bool) -> DataLoader:
        gen = torch.Generator().manual_seed(self.seed) if shuffle else None
        # persistent workers: a one-shot search cycles through a loader many times (a new pass, no new processes)
        extra: dict[str, Any] = {"num_workers": self.workers, "persistent_workers": True} if self.workers else {}
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle, generator=gen, **extra)

    def train_loader(self) -> DataLoader:
        return self._loader(self.train_data, True)

    def val_loader(self) -> DataLoader:
        return self._loader(self.valid_data, False)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        value = self.user_loss(output, target) if self.user_loss is not None else nn.functional.cross_entropy(output, target)
        if isinstance(output, torch.Tensor):
            self._last = (output.detach(), target, value.detach())
        return value

    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        params = list(params)
        opt = rebuild_optimizer(self.optimizer, params) if self.optimizer is not None else torch.optim.Adam(params, lr=1e-3)
        if self.log_frequency is not None:
            opt.register_step_post_hook(lambda *_: self._after_step())
        self.training_optimizer = opt  # the one training now (LRSchedulerCallback carries its rate over)
        return opt

    def batch_metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """The user's metrics on one batch (empty without a metrics function)."""
        return metrics_dict(self.metrics(output, target)) if self.metrics is not None else {}

    def _after_step(self) -> None:
        self.steps += 1
        if self.log_frequency and self.steps % self.log_frequency == 0 and self._last is not None:
            out, target, loss = self._last
            shown = {"loss": float(loss), **self.batch_metrics(out, target)}
            text = "  ".join(f"{k} {v:.4f}" for k, v in shown.items())
            log.info("Epoch [%d/%s] Step [%d]  %s", self.epoch + 1, self.num_epochs, self.steps, text)

    # -- evaluation and multi-trial training -----------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Mean loss and metrics of ``model`` over the validation data (weighted by batch size)."""
        was = model.training
        model.eval()
        sums: dict[str, float] = {}
        total = 0
        for x, y in self.val_loader():
            x = x.to(self.device) if isinstance(x, torch.Tensor) else x
            y = y.to(self.device) if isinstance(y, torch.Tensor) else y
            out = model(x)
            n = len(y)
            row = {"loss": float(self.loss(out, y)), **self.batch_metrics(out, y)}
            for k, v in row.items():
                sums[k] = sums.get(k, 0.0) + v * n
            total += n
        model.train(was)
        if total == 0:
            raise ConfigError("the validation data are empty; give at least one example.")
        result = {k: v / total for k, v in sums.items()}
        if self._objective is None:
            named = [k for k in result if k != "loss"]
            self._objective = "accuracy" if "accuracy" in result else (named[0] if named else "neg_loss")
        result.setdefault("neg_loss", -result["loss"])
        return result

    def fit(self, model: nn.Module) -> dict[str, float]:
        """Train ``model`` for ``num_epochs`` with the user's pieces; return its validation metrics."""
        model.to(self.device)
        net = self.parallel(model)
        opt = self.make_optimizer(model.parameters())
        for epoch in range(self.num_epochs):
            self.epoch = epoch
            net.train()
            for x, y in self.train_loader():
                x = x.to(self.device) if isinstance(x, torch.Tensor) else x
                y = y.to(self.device) if isinstance(y, torch.Tensor) else y
                opt.zero_grad(set_to_none=True)
                loss = self.loss(net(x), y)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"training loss became {float(loss)} at epoch {epoch + 1}; lower the "
                                             "learning rate or check the inputs.")
                loss.backward()
                opt.step()
        return self.evaluate(net)

    def __repr__(self) -> str:
        opt = type(self.optimizer).__name__ if self.optimizer is not None else "Adam(lr=0.001)"
        return (f"TrainerAdapter(train={len(cast(Sized, self.train_data))} examples, batch_size={self.batch_size}, optimizer={opt}, "
                f"device={self.device}{', DataParallel ' + str(self.device_ids) if self.device_ids else ''})")
