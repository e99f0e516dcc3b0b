"""The migration guide's examples that need no plugin: seed 004's space, the trial script standalone and
``nas space export`` (the guide's other examples run in the tests of the plugins they use)."""
import json
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from nas_core import search_space
from nas_core.errors import ConfigError
from nas_core.testing import seed_models
from nas_core.testing.doc_examples import doc_example, run_doc_example
from nas_core.testing.seed_models import write_trial_script

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "migrating-from-nni.md"
run = partial(run_doc_example, GUIDE)


def test_seed004_space_example():
    ns = run("seed004-space")
    space = search_space(ns["Net"]())
    assert space.labels == ["conv1", "skipcon"] and space.choices["skipcon"].domain == [[], [0]]


@pytest.mark.slow
def test_trial_script_standalone(tmp_path):
    write_trial_script(tmp_path, doc_example(GUIDE, "trial-script"))
    proc = subprocess.run([sys.executable, "trial.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # standalone: the first candidates (conv1 = the 3x3 kernel) and printed reports
    assert "[nas_core.trial] intermediate result: {'loss':" in proc.stdout and "'kernel': 3.0}" in proc.stdout
    final = re.search(r"\[nas_core.trial\] final result: ([0-9.]+)", proc.stdout)
    assert final and 0.0 <= float(final.group(1)) <= 1.0


def test_space_export_cli(tmp_path, monkeypatch):
    from nas_core.cli.main import cli

    shutil.copy(seed_models.__file__, tmp_path / "seed_models.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    res = CliRunner().invoke(cli, ["space", "export", "seed_models:Net", "out/search_space.json"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "search_space.json").read_text())
    assert data["conv1"]["_type"] == "layer_choice" and data["conv1"]["_value"] == [0, 1]
    assert data["skipcon"]["_type"] == "input_choice" and data["skipcon"]["_value"] == [[], [0]]
    assert data["skipcon"]["default"] == [0] and data["conv1"]["paths"] == ["conv1"]
    res = CliRunner().invoke(cli, ["space", "export", "seed_models:Nope", "x.json"])
    assert res.exit_code != 0 and "has no attribute 'Nope'" in res.output


def test_a_missing_example_names_the_page_and_the_marker(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- example: there -->\n```python\nx = 1 + 1\n```\n")
    assert run_doc_example(page, "there")["x"] == 2
    with pytest.raises(ConfigError, match=r"page.md has no example 'gone': mark its code block with "
                                          r"`<!-- example: gone -->`"):
        doc_example(page, "gone")
