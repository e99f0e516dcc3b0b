"""The ``script`` trainer: one subprocess per trial, reports collected, failures with their stderr tail."""
import os
import sys
import types

import pytest

import nas_core
from nas_core.errors import ConfigError
from nas_core.experiment import Experiment
from nas_core.testing.seed_models import Net
from nas_trainer_script import ScriptTrainer, ScriptTrialError

# A trial script that does not import torch (fast): it reads the architecture and writes reports by the protocol.
SCRIPT = r'''
import json, os, sys
arch = json.load(open(os.environ["NAS_TRIAL_ARCHITECTURE"]))
report = os.environ["NAS_TRIAL_REPORT"]
mode = sys.argv[1]
if mode == "crash" and arch["conv1"] == 1:
    sys.stderr.write("Traceback: the 5x5 candidate blew up\n")
    sys.exit(3)
if mode == "silent":
    sys.exit(0)
if mode == "epochs":
    import time
    open("pid.txt", "w").write(str(os.getpid()))
    for epoch in range(40):
        with open(report, "a") as fh:
            fh.write(json.dumps({"type": "intermediate", "value": {"default": epoch / 40, "loss": 1.0}}) + "\n")
        time.sleep(0.05)
with open(report, "a") as fh:
    fh.write(json.dumps({"type": "intermediate", "value": 0.25}) + "\n")
    value = {"default": 0.5 + 0.25 * arch["conv1"], "skip": len(arch["skipcon"])} if mode == "dict" else 0.5
    fh.write(json.dumps({"type": "final", "value": value}) + "\n")
'''


@pytest.fixture()
def script(tmp_path):
    path = tmp_path / "fake_trial.py"
    path.write_text(SCRIPT)
    return path


def test_run_passes_the_architecture_and_collects_reports(script, tmp_path):
    trainer = ScriptTrainer(["python", str(script), "dict"], cwd=tmp_path)
    assert trainer.run({"conv1": 1, "skipcon": [0]}) == {"accuracy": 0.75, "skip": 1.0}
    assert trainer.last_intermediate == [0.25]
    assert ScriptTrainer(f"python {script} plain", objective="acc").run({"conv1": 0, "skipcon": []}) == {"acc": 0.5}


def test_fit_reads_the_sample_of_a_frozen_model(script):
    space = nas_core.search_space(Net())
    frozen = space.freeze({"conv1": 1, "skipcon": []})
    assert nas_core.space.sample_of(frozen) == {"conv1": 1, "skipcon": []}
    assert ScriptTrainer(["python", str(script), "dict"]).fit(frozen)["accuracy"] == 0.75
    with pytest.raises(ConfigError, match="not frozen by a search space"):
        ScriptTrainer(["python", str(script), "dict"]).fit(Net())


def test_failures_name_the_cause_with_the_stderr_tail(script):
    with pytest.raises(ScriptTrialError, match=r"exited with code 3; stderr tail:\nTraceback: the 5x5 candidate"):
        ScriptTrainer(["python", str(script), "crash"]).run({"conv1": 1, "skipcon": []})
    with pytest.raises(ScriptTrialError, match="reported no final result"):
        ScriptTrainer(["python", str(script), "silent"]).run({"conv1": 0, "skipcon": []})
    with pytest.raises(ScriptTrialError, match="ran over its timeout"):
        ScriptTrainer([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5).run({"conv1": 0})
    with pytest.raises(ScriptTrialError, match="was not found"):
        ScriptTrainer(["no-such-command-xyz"]).run({"conv1": 0})
    with pytest.raises(ConfigError, match="non-empty command"):
        ScriptTrainer("")
    with pytest.raises(ConfigError, match="timeout"):
        ScriptTrainer("python x.py", timeout=-1)


def test_experiment_records_a_crashing_script_as_a_failed_trial(script, tmp_path):
    exp = Experiment(Net, ScriptTrainer(["python", str(script), "crash"]), "random", max_trials=4,
                     workdir=tmp_path / "run", progress=False, seed=0)
    exp.run()
    trials = exp.store.trials()
    failed = [t for t in trials if t.status == "failed"]
    ok = [t for t in trials if t.status == "succeeded"]
    assert {t.sample["conv1"] for t in failed} == {1} and {t.sample["conv1"] for t in ok} == {0}
    assert len(failed) == 2 and len(ok) == 2
    assert all("exited with code 3" in t.error and "the 5x5 candidate blew up" in t.error for t in failed)
    assert all(t.metrics["accuracy"] == 0.5 for t in ok)


def test_registered_as_script():
    assert nas_core.registry.get("trainer", "script").factory is ScriptTrainer
    trainer = nas_core.create("trainer", "script", command="python train.py --epochs 3")
    assert trainer.command == ["python", "train.py", "--epochs", "3"] and trainer._argv()[0] == sys.executable


def test_intermediate_reports_are_forwarded_live_and_a_stop_kills_the_script(script, monkeypatch):
    """With the experiment's reporting API (nas_core.pruning.report) present, each report is forwarded as it comes."""
    calls = []

    class Stop(Exception):
        pass

    def report(step, value):
        calls.append((step, value))
        if step >= 2:
            raise Stop("the pruner stops this trial")

    fake = types.ModuleType("nas_core.pruning")
    fake.report = report
    monkeypatch.setitem(sys.modules, "nas_core.pruning", fake)
    trainer = ScriptTrainer(["python", str(script), "dict"])
    trainer.run({"conv1": 0, "skipcon": []})
    assert calls == [(0, 0.25)]
    calls.clear()
    with pytest.raises(Stop):
        ScriptTrainer(["python", str(script), "epochs"], cwd=script.parent).run({"conv1": 0, "skipcon": []})
    assert calls[:3] == [(0, {"accuracy": 0.0, "loss": 1.0}), (1, {"accuracy": 0.025, "loss": 1.0}),
                         (2, {"accuracy": 0.05, "loss": 1.0})]
    assert len(calls) == 3
    pid = int((script.parent / "pid.txt").read_text())
    with pytest.raises(ProcessLookupError):  # the script was killed (and reaped), not left running
        os.kill(pid, 0)
