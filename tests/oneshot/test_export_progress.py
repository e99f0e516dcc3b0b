"""The checked export's retraining reports its progress: to ``on_export`` and, in the experiment runner, as a
second progress bar beside the epochs."""
from types import SimpleNamespace

from nas_core.oneshot.experiment import _epoch_bar


class _Strategy:
    epochs = 2

    def __init__(self):
        self.on_epoch = None
        self.on_export = None

    def fit(self):
        self.on_epoch(1, 2, {"loss": 0.5})
        self.on_epoch(2, 2, {"loss": 0.25})
        for done in range(1, 7):
            self.on_export(done, 6)


def test_the_runner_shows_the_retraining_as_a_bar_and_restores_the_hooks(capsys):
    strategy = _Strategy()
    mine = lambda done, total: None  # noqa: E731
    strategy.on_export = mine
    with _epoch_bar(SimpleNamespace(strategy=strategy, progress=True)):
        assert strategy.on_export is not mine
        strategy.fit()
    out = capsys.readouterr().out
    assert "_Strategy epochs" in out and "2/2" in out
    assert "checked export" in out and "6/6" in out and "retraining the best candidates alone" in out
    assert strategy.on_export is mine and strategy.on_epoch is None


def test_without_progress_nothing_is_wrapped():
    strategy = _Strategy()
    with _epoch_bar(SimpleNamespace(strategy=strategy, progress=False)):
        assert strategy.on_export is None and strategy.on_epoch is None
