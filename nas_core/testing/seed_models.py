"""The small spaces and data NNI's seed examples run on in the migration tests (the core's and the plugins').

* :class:`Net`: seed 004's skip-connection MNIST net, scaled down to 1x12x12 inputs;
* :class:`MobileNet`: a 3-channel space that runs at any resolution (seed 003's);
* :func:`learnable_data`: random inputs with labels a fixed function of them;
* :func:`accuracy`: NNI's top-k accuracy helper, which seed 003's example calls;
* :func:`write_trial_script`: a user's trial script (seed 004's trial-script mode) in a folder.

The module is self-contained (it imports only torch and ``nas_core.space``): the trial-script
tests copy its file next to a user's script, as ``seed_models.py``.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from nas_core import space as mutables


class Net(nn.Module):
    """Seed 004's skip-connection Net, at 1x12x12 input and fewer channels (the same code otherwise)."""

    def __init__(self) -> None:
        super(Net, self).__init__()
        self.conv1 = mutables.LayerChoice([
            nn.Conv2d(1, 8, 3, 1),
            nn.Conv2d(1, 8, 5, 1, 1),
        ])  # try 3x3 kernel and 5x5 kernel
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.conv3 = nn.Conv2d(16, 16, 1, 1)
        # declaring that there is exactly one candidate to choose from
        # search strategy will choose one or None
        self.skipcon = mutables.InputChoice(n_candidates=1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.fc1 = nn.Linear(256, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x0 = self.skipcon([x])  # choose one or none from [x]
        x = self.conv3(x)
        if x0 is not None:  # skipconnection is open
            x += x0
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class MobileNet(nn.Module):
    """A 3-channel space that runs at any resolution (seed 003's dummy_input is 1x3x224x224)."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.block1 = mutables.LayerChoice([
            nn.Conv2d(width, width, 3, padding=1),
            nn.Conv2d(width, width, 5, padding=2),
            nn.Conv2d(width, width, 1),
        ], label="block1")
        self.block2 = mutables.LayerChoice([
            nn.Conv2d(width, width, 3, padding=1),
            nn.Conv2d(width, width, 1),
        ], label="block2")
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(x))
        x = F.relu(self.block1(x))
        x = F.relu(self.block2(x))
        return self.head(x.mean(dim=(2, 3)))


def learnable_data(n: int, shape: tuple[int, ...], classes: int = 10, seed: int = 0) -> TensorDataset:
    """``n`` random inputs whose labels are a fixed function of them (so training can learn them)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *shape, generator=gen)
    proj = torch.randn(x[0].numel(), classes, generator=torch.Generator().manual_seed(1234))
    y = (x.flatten(1) @ proj).argmax(dim=1)
    return TensorDataset(x, y)


def accuracy(output: torch.Tensor, target: torch.Tensor, topk: tuple[int, ...] = (1,)) -> dict[str, float]:
    """NNI's ``nni.retiarii.oneshot.pytorch.utils.accuracy`` (user code in seed 003's example)."""
    maxk = max(topk)
    batch_size = target.size(0)
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    res: dict[str, float] = dict()
    for k in topk:
        correct_k = correct[:k].reshape(-1).float().sum(0)
        res["acc{}".format(k)] = correct_k.mul_(1.0 / batch_size).item()
    return res


# A user's training and test code for Net, what seed 004's trial script calls.
TRIAL_USER_CODE = '''
import torch
import torch.nn.functional as F
import nas_core.trial
from seed_models import Net, learnable_data


def train(model):
    x, y = learnable_data(64, (1, 12, 12)).tensors
    opt = torch.optim.Adam(model.parameters(), 0.01)
    model.train()
    for epoch in range(2):
        for i in range(0, 64, 16):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 16]), y[i:i + 16])
            loss.backward()
            opt.step()
        nas_core.trial.report_intermediate_result({"loss": float(loss), "kernel": model.conv1.kernel_size[0]})


def test(model):
    x, y = learnable_data(32, (1, 12, 12), seed=1).tensors
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())
'''


def write_trial_script(folder: Path, example_code: str) -> Path:
    """Write ``folder/trial.py`` (:data:`TRIAL_USER_CODE`, then ``example_code``: the guide's trial script) and
    ``folder/seed_models.py`` (a copy of this module, which the script imports); return the script's path."""
    folder = Path(folder)
    (folder / "seed_models.py").write_text(Path(__file__).read_text())
    script = folder / "trial.py"
    script.write_text(TRIAL_USER_CODE + "\n" + example_code)
    return script
