"""Write small experiment configuration files for the tests."""
from __future__ import annotations

from pathlib import Path

TOY = """
[experiment]
seed = {seed}
max_trials = {max_trials}
workdir = "{workdir}"
schedule = "sync"
batch_size = {batch_size}

[space]
class = "nas_exp_testkit:ToySpace"
input_shape = [1, 8]

[strategy]
factory = "nas_exp_testkit:HillClimb"

[trainer]
factory = "nas_exp_testkit:CheapTrainer"
sleep = {sleep}

[profilers.params]
factory = "nas_exp_testkit:ParamsCost"

[constraints]
params = {{ max = 400 }}

[objectives]
accuracy = "max"
params = "min"

[executor]
name = "{executor}"
"""


def write_toy(tmp: Path, name: str = "toy.toml", seed: int = 3, max_trials: int = 8, sleep: float = 0.0,
              executor: str = "in-process", workdir: str = "out", extra: str = "", batch_size: int = 1) -> Path:
    path = Path(tmp) / name
    path.write_text(TOY.format(seed=seed, max_trials=max_trials, sleep=sleep, executor=executor,
                               workdir=workdir, batch_size=batch_size) + extra)
    return path
