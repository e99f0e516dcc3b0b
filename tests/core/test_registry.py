"""Registry: lookup by name, close matches, duplicates, broken plugins, env vars, real entry points."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nas_core
from nas_core import DuplicateComponentError, UnknownComponentError, hookimpl
from nas_core.registry import Registry

ROOT = Path(__file__).resolve().parents[2]

PLUGIN_SRC = '''
import nas_core

class Const(nas_core.Profiler):
    unit = "units"
    def __init__(self, model_space=None, dummy_input=None, value=1.0):
        self.value = value
    def profile(self, sample):
        return self.value

@nas_core.hookimpl
def register_profilers(register):
    register("{name}", Const)
'''


class Flops:
    @hookimpl
    def register_profilers(register):
        register("flops-x", lambda *a, **k: ("flops-x", a, k))

    @hookimpl
    def register_strategies(register):
        register("random-x", lambda **k: ("random-x", k))


def test_create_and_list(nas_plugin):
    nas_plugin(Flops, distribution="nas-profiler-x", version="1.2.3")
    assert nas_core.create("profiler", "flops-x", 1, a=2) == ("flops-x", (1,), {"a": 2})
    assert nas_core.available("strategy") == ["random-x"]
    assert "in-process" in nas_core.available()["executor"]
    comp = nas_core.get_registry().get("profiler", "flops-x")
    assert (comp.distribution, comp.version) == ("nas-profiler-x", "1.2.3")


def test_unknown_name_lists_close_matches(nas_plugin):
    nas_plugin(Flops)
    with pytest.raises(UnknownComponentError) as err:
        nas_core.create("profiler", "flop-x")
    assert "'flops-x'" in str(err.value) and "Did you mean" in str(err.value)
    with pytest.raises(Exception, match="unknown component kind 'profilr'"):
        nas_core.create("profilr", "flops-x")


def test_duplicate_name_names_both_distributions(nas_plugin):
    class Other:
        @hookimpl
        def register_profilers(register):
            register("flops-x", object)

    nas_plugin(Flops, distribution="dist-one", version="1.0")
    nas_plugin(Other, distribution="dist-two", version="2.0")
    with pytest.raises(DuplicateComponentError) as err:
        nas_core.create("profiler", "flops-x")
    assert "dist-one" in str(err.value) and "dist-two" in str(err.value)
    # other names are unaffected
    assert nas_core.create("strategy", "random-x")[0] == "random-x"


def test_entry_point_discovery_and_broken_plugin(fake_distribution):
    fake_distribution("nas-profiler-good", "0.4", modules={"good_plugin": PLUGIN_SRC.format(name="good")},
                      entry_points={"nas_core": {"good": "good_plugin"}})
    fake_distribution("nas-profiler-broken", "0.1", modules={"broken_plugin": "raise ImportError('no libfoo')"},
                      entry_points={"nas_core": {"broken": "broken_plugin"}})
    with pytest.warns(RuntimeWarning, match=r"plugin 'broken'.*nas-profiler-broken.*no libfoo"):
        reg = nas_core.get_registry()
    comp = reg.get("profiler", "good")
    assert (comp.distribution, comp.version) == ("nas-profiler-good", "0.4")
    assert nas_core.create("profiler", "good", value=3.0).profile({}) == 3.0
    assert "broken" in reg.failed


def test_env_var_restricts_and_disables(fake_distribution, monkeypatch):
    fake_distribution("nas-profiler-aa", modules={"aa_plugin": PLUGIN_SRC.format(name="aa")},
                      entry_points={"nas_core": {"aa": "aa_plugin"}})
    fake_distribution("nas-profiler-bb", modules={"bb_plugin": PLUGIN_SRC.format(name="bb")},
                      entry_points={"nas_core": {"bb": "bb_plugin"}})
    monkeypatch.setenv("NAS_CORE_PLUGINS", "nas-profiler-aa")
    names = Registry().names("profiler")
    assert "aa" in names and "bb" not in names
    monkeypatch.setenv("NAS_CORE_PLUGINS", "")
    assert Registry().names("profiler") == []
    assert "in-process" in Registry().names("executor")  # the core's own stay
    monkeypatch.delenv("NAS_CORE_PLUGINS")
    monkeypatch.setenv("NAS_CORE_DISABLE_PLUGINS", "bb")
    names = Registry().names("profiler")
    assert "aa" in names and "bb" not in names


def test_fake_distribution_duplicate_through_entry_points(fake_distribution):
    fake_distribution("nas-profiler-one", modules={"one_plugin": PLUGIN_SRC.format(name="same")},
                      entry_points={"nas_core": {"one": "one_plugin"}})
    fake_distribution("nas-profiler-two", modules={"two_plugin": PLUGIN_SRC.format(name="same")},
                      entry_points={"nas_core": {"two": "two_plugin"}})
    with pytest.raises(DuplicateComponentError, match=r"nas-profiler-one.*nas-profiler-two|nas-profiler-two.*nas-profiler-one"):
        nas_core.create("profiler", "same")


def _discovery_env():
    """The environment without the plugin filter: discovery is what these tests check."""
    import os

    return {k: v for k, v in os.environ.items() if k not in ("NAS_CORE_PLUGINS", "NAS_CORE_DISABLE_PLUGINS")}


def _nas(*args, env=None):
    e = _discovery_env()
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "nas_core.cli.main", *args], capture_output=True, text=True, env=e,
                          timeout=120)


def test_cli_plugins_json_lists_core_components():
    out = _nas("plugins", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["components"]
    assert {"kind": "executor", "name": "in-process", "distribution": "nas-core"}.items() <= rows[
        [r["name"] for r in rows].index("in-process")].items()


@pytest.mark.slow
def test_example_plugin_pip_installed_is_discovered(tmp_path):
    """The example plugin under tests/ is really pip-installed and found through its entry point."""
    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(target),
         str(ROOT / "tests" / "example_plugin")],
        capture_output=True, text=True, timeout=300,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    import os

    env = {"PYTHONPATH": str(target) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = _nas("plugins", "--json", env=env)
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout)["components"] if r["name"] == "layer-count"]
    assert rows == [rows[0]] and rows[0]["distribution"] == "nas-profiler-example" and rows[0]["version"] == "0.3.0"
    table = _nas("plugins", env=env).stdout
    assert "layer-count" in table and "nas-profiler-example" in table
    code = (
        "import nas_core, torch\n"
        "from nas_core.testing.seed_spaces import SkipNet\n"
        "p = nas_core.create('profiler', 'layer-count', SkipNet(fixed=True))\n"
        "print(p.profile({'conv1': 0, 'skipcon': []}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**_discovery_env(), **env}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout.strip()) == 5.0  # conv1, conv2, conv3, fc1, fc2
