"""ClassificationTrainer: train a frozen model with cross-entropy, report top-1 accuracy and loss."""
from __future__ import annotations

import difflib
import math
from typing import Any, Callable, ClassVar, Iterable

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from nas_core.errors import ConfigError
from nas_core.interfaces import Trainer
from nas_core.pruning import current_reporter

from nas_core.training import rebuild_optimizer, resolve_devices

from nas_trainer_classification.data import BUILTIN_DATASETS, digits_dataset, make_dataset
from nas_trainer_classification.pieces import BatchAverages, check_pieces

__all__ = ["ClassificationTrainer", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (the model diverged)."""


def _optimizers() -> dict[str, type]:
    out = {}
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer) and obj is not torch.optim.Optimizer:
            out[name.lower()] = obj
    return out


class ClassificationTrainer(Trainer):
    """A plain supervised loop: DataLoader, optimizer by name, epochs, top-1 accuracy and loss.

    Data: ``dataset="digits"`` (scikit-learn's 8x8 digits, split into train/val by
    ``seed``), or ``train=``/``val=`` as torch Datasets or ``(inputs, targets)`` tensors.
    ``fit(model)`` trains for ``epochs`` and returns ``{"accuracy", "loss", "train_loss"}``
    measured on the validation set (accuracy is a fraction in [0, 1]). A NaN or infinite
    training loss stops training with :class:`NonFiniteLossError`. The same ``seed`` and the
    same initial model give the same metrics. Inside an experiment's trial it evaluates after
    every epoch and reports the metrics (``nas_core.pruning``), so the experiment's pruner
    can stop it early.

    The user's own pieces (NNI's trainer arguments): ``optimizer`` may be an optimizer object
    (built on any model's parameters; re-created with its class and settings on each trained
    model), ``loss(output, target)`` replaces cross-entropy, ``metrics(output, target)``
    returning a number (reported as ``"metric"``) or a dict adds validation metrics (means
    over the validation set), and ``objective`` names the one the search maximises.
    ``device`` may list GPU indices: training then runs under DataParallel.
    """

    objective: ClassVar[str] = "accuracy"
    metric_names: ClassVar[tuple[str, ...]] = ("accuracy", "loss", "train_loss")
    metric_units: ClassVar[dict[str, str]] = {
        "accuracy": "top-1, fraction", "loss": "cross-entropy", "train_loss": "cross-entropy",
    }

    def __init__(
        self,
        dataset: str | None = None,
        train: Dataset | tuple[torch.Tensor, torch.Tensor] | None = None,
        val: Dataset | tuple[torch.Tensor, torch.Tensor] | None = None,
        *,
        epochs: int = 5,
        batch_size: int = 64,
        optimizer: str | torch.optim.Optimizer = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float | None = None,
        device: str | list[int] = "cpu",
        seed: int = 0,
        val_fraction: float = 0.25,
        loss: Callable[[Any, Any], torch.Tensor] | None = None,
        metrics: Callable[[Any, Any], Any] | None = None,
        objective: str | None = None,
    ) -> None:
        if dataset is not None and (train is not None or val is not None):
            raise ConfigError("give either dataset='digits' or train=/val= data, not both.")
        if dataset is None and (train is None or val is None):
            raise ConfigError(
                "ClassificationTrainer needs data: dataset='digits' for the built-in 8x8 digits, or both "
                "train= and val= (torch Datasets or (inputs, targets) tensors)."
            )
        if dataset is not None and dataset not in BUILTIN_DATASETS:
            close = difflib.get_close_matches(str(dataset), BUILTIN_DATASETS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"trainer dataset {dataset!r} is not built in.{hint} Built-in data sets: "
                f"{', '.join(BUILTIN_DATASETS)}; for other data pass train= and val= from Python."
            )
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"trainer {name} must be a positive integer, got {value!r}.")
        if not isinstance(lr, (int, float)) or not lr > 0:
            raise ConfigError(f"trainer lr must be a positive number, got {lr!r}.")
        check_pieces(loss, metrics, objective)
        self.user_optimizer = optimizer if isinstance(optimizer, torch.optim.Optimizer) else None
        if self.user_optimizer is not None:
            rebuild_optimizer(optimizer, [nn.Parameter(torch.zeros(1))])  # fails now if it cannot be re-created
            optimizer = type(optimizer).__name__
        opts = _optimizers()
        if str(optimizer).lower() not in opts:
            close = difflib.get_close_matches(str(optimizer).lower(), list(opts), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ConfigError(
                f"unknown optimizer {optimizer!r}.{hint} Use the name of a torch.optim class, e.g. "
                f"{', '.join(sorted(opts)[:8])}."
            )
        self.device_ids: list[int] = []
        if isinstance(device, (list, tuple)):  # GPUs for DataParallel (seed 003)
            main, self.device_ids = resolve_devices(device)
            device = str(main)
        if device not in ("cpu", "auto") and not device.startswith(("cuda", "mps")):
            raise ConfigError(f"trainer device {device!r} is not understood; use 'cpu', 'cuda', 'cuda:N' or 'auto'.")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"trainer device {device!r} was asked for but CUDA is not available; use 'cpu' or 'auto'.")
        self.dataset = dataset
        self._train = make_dataset(train, "train") if train is not None else None
        self._val = make_dataset(val, "val") if val is not None else None
        self.epochs, self.batch_size = epochs, batch_size
        self.optimizer_name, self.lr, self.weight_decay, self.momentum = str(optimizer).lower(), float(lr), weight_decay, momentum
        self.device_name, self.seed, self.val_fraction = device, seed, val_fraction
        self.user_loss, self.metrics = loss, metrics
        if objective is not None:
            self.objective = objective  # type: ignore[misc]

    # -- pickling: built-in data is reloaded where the trainer runs, not shipped ---------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.dataset is not None:
            state["_train"] = state["_val"] = None
        return state

    def _data(self) -> tuple[Dataset, Dataset]:
        if self._train is None:
            self._train, self._val = digits_dataset(self.seed, self.val_fraction)
        return self._train, self._val  # type: ignore[return-value]

    # -- the pieces one-shot strategies drive -----------------------------------------------
    @property
    def device(self) -> torch.device:
        if self.device_name == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device_name)

    def train_loader(self) -> DataLoader:
        """Shuffled training batches; the order is fixed by ``seed`` (each call restarts it)."""
        gen = torch.Generator().manual_seed(self.seed)
        return DataLoader(self._data()[0], batch_size=self.batch_size, shuffle=True, generator=gen)

    def val_loader(self) -> DataLoader:
        return DataLoader(self._data()[1], batch_size=max(self.batch_size, 256), shuffle=False)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.user_loss is not None:
            return self.user_loss(output, target)
        return nn.functional.cross_entropy(output, target)

    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        if self.user_optimizer is not None:  # the user's optimizer: same class and settings, these weights
            return rebuild_optimizer(self.user_optimizer, params)
        cls = _optimizers()[self.optimizer_name]
        kwargs: dict[str, Any] = {"lr": self.lr}
        if self.weight_decay:
            kwargs["weight_decay"] = self.weight_decay
        if self.momentum is not None:
            kwargs["momentum"] = self.momentum
        try:
            return cls(params, **kwargs)
        except TypeError as err:
            raise ConfigError(f"optimizer {self.optimizer_name!r} does not accept {sorted(kwargs)}: {err}.") from None

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Top-1 accuracy (fraction), mean loss and the user's metrics of ``model`` on the validation set."""
        model.eval()
        dev = self.device
        correct, total = 0, 0
        averages = BatchAverages(self.user_loss, self.metrics)
        for x, y in self.val_loader():
            x, y = x.to(dev), y.to(dev)
            out = model(x)
            averages.add(out, y)
            correct += int((out.argmax(dim=1) == y).sum())
            total += len(y)
        if total == 0:
            raise ConfigError("the validation set is empty; give at least one validation example.")
        result = {"accuracy": correct / total, **averages.result()}
        if self.objective not in result:
            raise ConfigError(f"trainer objective {self.objective!r} is not among the metrics {sorted(result)}; name "
                              "one of them (a metrics function's dict keys, or 'metric' for a plain number).")
        return result

    # -- multi-trial: train a frozen model from its current weights ---------------------------
    def fit(self, model: nn.Module) -> dict[str, float]:
        """Train ``model`` for ``epochs``; return validation ``accuracy``, ``loss`` and the last ``train_loss``.

        Raises :class:`NonFiniteLossError` as soon as a training loss is NaN or infinite.
        """
        dev = self.device
        model.to(dev)
        opt = self.make_optimizer(model.parameters())
        net = nn.DataParallel(model, device_ids=self.device_ids) if self.device_ids else model
        train_loss = math.nan
        metrics: dict[str, float] | None = None
        reporter = current_reporter()  # inside an experiment's trial: report each epoch (a pruner may stop it)
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            for epoch in range(self.epochs):
                model.train()
                total, count = 0.0, 0
                for step, (x, y) in enumerate(self.train_loader()):
                    x, y = x.to(dev), y.to(dev)
                    opt.zero_grad(set_to_none=True)
                    loss = self.loss(net(x), y)
                    if not torch.isfinite(loss):
                        raise NonFiniteLossError(
                            f"training loss became {float(loss.detach())} at epoch {epoch + 1}, batch {step + 1}: the model "
                            f"diverged. Lower the learning rate (lr={self.lr}) or check the inputs for NaN."
                        )
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(y)
                    count += len(y)
                train_loss = total / max(count, 1)
                if reporter is not None:
                    with torch.random.fork_rng(devices=devices):  # evaluating must not shift the training RNG
                        metrics = {**self.evaluate(model), "train_loss": train_loss}
                    reporter.report(epoch + 1, metrics)
        if metrics is None:
            metrics = {**self.evaluate(model), "train_loss": train_loss}
        return metrics

    def __repr__(self) -> str:
        data = self.dataset or "custom"
        return (f"ClassificationTrainer(dataset={data!r}, epochs={self.epochs}, batch_size={self.batch_size}, "
                f"optimizer={self.optimizer_name!r}, lr={self.lr}, device={self.device_name!r}, seed={self.seed})")
