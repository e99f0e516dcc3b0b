"""Bad files and bad code references: one-line errors naming the file or field, before anything runs."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from nas_core.cli.main import cli
from nas_core.errors import ArchitectureFormatError, ConfigError
from nas_core.experiment import load_config
from nas_core.space import load_architecture

from exp_configs import write_toy


def _one_line_error(result):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_config_that_is_not_utf8_is_one_line(tmp_path):
    cfg = write_toy(tmp_path)
    cfg.write_bytes(cfg.read_bytes().replace(b"seed = 3", b"seed = 3 # caf\xe9"))
    line = _one_line_error(CliRunner().invoke(cli, ["search", str(cfg)]))
    assert str(cfg) in line and "not UTF-8" in line and "line 3" in line and "save it as UTF-8" in line


def test_config_that_is_binary_or_a_directory(tmp_path):
    p = tmp_path / "blob.toml"
    p.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(ConfigError, match="is binary data, not text"):
        load_config(p)
    d = tmp_path / "folder.toml"
    d.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(d)


def test_architecture_file_that_is_binary_or_a_directory(tmp_path):
    p = tmp_path / "arch.json"
    p.write_bytes(bytes(range(256)))
    with pytest.raises(ArchitectureFormatError, match="arch.json' is binary data, not text"):
        load_architecture(p)
    with pytest.raises(ArchitectureFormatError, match="is a directory; give the path of a JSON file"):
        load_architecture(tmp_path)
    p.write_bytes(b'{"width": "caf\xe9"}')
    with pytest.raises(ArchitectureFormatError, match="not UTF-8"):
        load_architecture(p)
    p.write_text("[" * 100_000)
    with pytest.raises(ArchitectureFormatError, match="not valid JSON"):
        load_architecture(p)


def test_input_shape_that_does_not_fit_the_space_is_caught_before_the_search(tmp_path):
    cfg = write_toy(tmp_path)
    cfg.write_text(cfg.read_text().replace("input_shape = [1, 8]", "input_shape = [1, 3, 32, 32]"))
    line = _one_line_error(CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"]))
    assert "space.input_shape [1, 3, 32, 32] does not fit the space" in line
    assert "failed in layer 'fc1' (Linear) on input (Tensor[1, 3, 32, 32])" in line
    assert not (tmp_path / "out").exists()  # no trial was run or stored


def test_trainer_factory_that_is_a_builtin_is_refused_before_it_is_called(tmp_path):
    marker = tmp_path / "ran"
    cfg = write_toy(tmp_path)
    text = cfg.read_text().replace('factory = "nas_exp_testkit:CheapTrainer"\nsleep = 0.0',
                                   f'factory = "os:system"\ncommand = "touch {marker}"')
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=r"trainer.factory: 'os:system' is builtin function (posix|nt|os).system, "
                                          r"not a Trainer subclass or a Python function"):
        load_config(cfg).build(progress=False)
    assert not marker.exists()
    cfg.write_text(text.replace('"os:system"', '"collections:OrderedDict"'))
    with pytest.raises(ConfigError, match="is class collections.OrderedDict, which is not a nas_core.Trainer subclass"):
        load_config(cfg).build(progress=False)


def test_space_class_that_is_a_builtin_is_refused(tmp_path):
    cfg = write_toy(tmp_path)
    cfg.write_text(cfg.read_text().replace('"nas_exp_testkit:ToySpace"', '"os:getcwd"'))
    with pytest.raises(ConfigError, match="space.class: 'os:getcwd' is builtin function"):
        load_config(cfg).build(progress=False)


def test_trainer_factory_result_that_is_not_a_trainer_is_refused(tmp_path):
    cfg = write_toy(tmp_path)
    cfg.write_text(cfg.read_text().replace('"nas_exp_testkit:CheapTrainer"\nsleep = 0.0',
                                           '"nas_exp_testkit:make_not_a_trainer"'))
    with pytest.raises(ConfigError, match="trainer.factory: 'nas_exp_testkit:make_not_a_trainer' returned "
                                          "nas_exp_testkit.NotATrainer, not a nas_core.Trainer"):
        load_config(cfg).build(progress=False)
    cfg.write_text(cfg.read_text().replace("make_not_a_trainer", "make_cheap_trainer"))
    assert type(load_config(cfg).build(progress=False).trainer).__name__ == "CheapTrainer"
