"""The migration guide's trial-script mode under ``nas search``: the guide's config runs the script trainer."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nas_core.testing.doc_examples import doc_example
from nas_core.testing.seed_models import write_trial_script

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "migrating-from-nni.md"


@pytest.mark.slow
def test_trial_script_under_nas_search_with_the_script_trainer(tmp_path, monkeypatch):
    from nas_core.cli.main import cli

    write_trial_script(tmp_path, doc_example(GUIDE, "trial-script"))
    monkeypatch.chdir(tmp_path)
    config = doc_example(GUIDE, "trial-config").replace("[experiment]\n", '[experiment]\nworkdir = "run"\nseed = 1\n')
    config = config.replace("max_trials = 3", "max_trials = 2")  # two subprocess trials are enough here
    (tmp_path / "config.toml").write_text(config)
    res = CliRunner().invoke(cli, ["search", "config.toml", "--no-progress"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["results", "run", "--json"])
    data = json.loads(res.output)
    trials = [t for t in data["trials"] if t["status"] == "succeeded"]
    assert len(trials) == 2
    assert all(0.0 <= t["metrics"]["accuracy"] <= 1.0 for t in trials)
    assert len({json.dumps(t["sample"], sort_keys=True) for t in trials}) == 2  # two architectures ran
