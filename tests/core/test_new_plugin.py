"""`nas new-plugin KIND NAME` writes a plugin that installs, registers and passes its own test."""
import json
import os
import subprocess
import sys

import pytest

from nas_core.cli.new_plugin_cmd import TEMPLATE_KINDS, write_plugin
from nas_core.errors import ConfigError

ENV = {k: v for k, v in os.environ.items() if k not in ("NAS_CORE_PLUGINS", "NAS_CORE_DISABLE_PLUGINS")}


def _python(code: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, cwd=cwd,
                          timeout=300)


@pytest.mark.slow
def test_new_profiler_plugin_installs_editable_and_is_listed(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nas_core.cli.main", "new-plugin", "profiler", "demo", "--dir",
                          str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    root = tmp_path / "nas-profiler-demo"
    site_dir = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(site_dir), "-e", str(root)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    listed = _python("import site, sys; site.addsitedir(sys.argv[1]); sys.argv = ['nas', 'plugins', '--json']; "
                     "from nas_core.cli.main import main; main()", str(site_dir))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["components"]
    assert {"kind": "profiler", "name": "demo", "distribution": "nas-profiler-demo"}.items() <= next(
        r for r in rows if r["name"] == "demo").items()
    # editable: a change to the source is what runs
    init = root / "nas_profiler_demo" / "__init__.py"
    init.write_text(init.read_text().replace('unit = "layers"', 'unit = "weighted layers"'))
    unit = _python("import site, sys; site.addsitedir(sys.argv[1]); import nas_core; from nas_core.strategy.testing "
                   "import ToyNet; print(nas_core.create('profiler', 'demo', ToyNet()).unit)", str(site_dir))
    assert unit.stdout.strip() == "weighted layers", unit.stderr


@pytest.mark.slow
def test_every_template_passes_its_own_test(tmp_path):
    roots = [write_plugin(kind, f"my-{kind}", tmp_path) for kind in TEMPLATE_KINDS]
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(r) for r in roots] + [ENV.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                          *[str(r / "tests") for r in roots]], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"{len(TEMPLATE_KINDS) + 1} passed" in run.stdout  # the strategy template has two tests


def test_bad_kind_name_and_existing_folder_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown kind 'profilr'"):
        write_plugin("profilr", "demo", tmp_path)
    with pytest.raises(ConfigError, match="lower-case"):
        write_plugin("profiler", "My_Demo", tmp_path)
    write_plugin("profiler", "demo", tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        write_plugin("profiler", "demo", tmp_path)
