"""The classification trainer reports every epoch inside a trial and trains exactly as without reports."""
from __future__ import annotations

import torch
from torch import nn

from nas_core.experiment import TrialStore
from nas_core.pruning import CurveStore, TrialReporting, reporting
from nas_core.threads import torch_threads


def _model() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 10))


def test_reports_each_epoch_and_the_final_metrics_do_not_change(tmp_path):
    from nas_trainer_classification import ClassificationTrainer

    gen = torch.Generator().manual_seed(0)
    data = [(torch.randn(n, 1, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen)) for n in (256, 64)]
    trainer = ClassificationTrainer(train=data[0], val=data[1], epochs=3, batch_size=64, lr=0.01)
    TrialStore(tmp_path).close()
    with torch_threads(1):
        alone = trainer.fit(_model())
        with reporting(1, TrialReporting(str(tmp_path / "trials.db"), "accuracy")):
            reported = trainer.fit(_model())
    assert reported == alone  # per-epoch evaluation does not shift the training randomness (dropout)
    with CurveStore(tmp_path) as curves:
        points = curves.points(1)
    assert [p.step for p in points] == [1, 2, 3]
    assert set(points[0].metrics) == {"accuracy", "loss", "train_loss"}
    assert points[-1].metrics == alone and points[-1].value == alone["accuracy"]
