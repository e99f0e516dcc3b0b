"""Finding, registering and loading predictors; the errors when they are missing or unloadable."""
import json
import pickle
import socket
import time

import pytest

from nas_profiler_nnmeter import (
    NnMeterProfiler,
    PredictorLoadError,
    PredictorNotFoundError,
    load_predictor,
    register_predictor,
    registered_predictors,
    resolve_predictor,
    unregister_predictor,
)
from nas_profiler_nnmeter.predictors import nn_meter_predictor_home, registry_path

import torch
from nnmeter_mbv2_space import MobileNetV2Space


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", ["cortexA76cpu_tflite21", "adreno640gpu_tflite21", "myriadvpu_openvino2019r2"])
def test_published_predictor_not_present_is_a_quick_error_naming_the_folder(name, no_network):
    start = time.perf_counter()
    with pytest.raises(PredictorNotFoundError) as err:
        NnMeterProfiler(MobileNetV2Space(), torch.randn(1, 3, 32, 32), predictor=name)
    assert time.perf_counter() - start < 1.0
    text = str(err.value)
    folder = nn_meter_predictor_home() / name
    assert str(folder) in text and ".nn_meter/data/predictor" in text
    assert "conv-bn-relu.pkl" in text and "fusion_rules.json" in text  # which files are missing
    assert "never downloads" in text and "build_predictor" in text and "register_predictor" in text


def test_published_predictor_with_some_files_lists_only_the_missing_ones(no_network, synthetic_predictor):
    folder = nn_meter_predictor_home() / "cortexA76cpu_tflite21"
    folder.mkdir(parents=True)
    (folder / "conv-bn-relu.pkl").write_bytes((synthetic_predictor / "conv-bn-relu.pkl").read_bytes())
    with pytest.raises(PredictorNotFoundError) as err:
        load_predictor("cortexA76cpu_tflite21")
    text = str(err.value)
    assert "dwconv-bn-relu.pkl" in text and "fusion_rules.json" in text
    assert "conv-bn-relu.pkl," not in text.split("lacks", 1)[1].split("dwconv")[0]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(PredictorNotFoundError, match="Did you mean 'cortexA76cpu_tflite21'"):
        resolve_predictor("cortexA76cpu_tflite2")


def test_missing_folder_path_is_an_error():
    with pytest.raises(PredictorNotFoundError, match="does not exist"):
        resolve_predictor("./no/such/predictor")


def test_register_and_use_by_name(synthetic_predictor):
    entry = register_predictor("my-cpu", synthetic_predictor)
    assert entry["package_location"] == str(synthetic_predictor.resolve())
    assert "conv-bn-relu" in entry["kernel_predictors"] and entry["version"] == "1.0"
    assert [e["name"] for e in registered_predictors()] == ["my-cpu"]
    assert registry_path().is_file()
    loaded = load_predictor("my-cpu")
    assert loaded.folder == synthetic_predictor.resolve() and "fc" in loaded.regressors
    assert loaded.info.source == "registered"
    with pytest.raises(ValueError, match="already registered"):
        register_predictor("my-cpu", synthetic_predictor, overwrite=False)
    assert unregister_predictor("my-cpu") == 1
    with pytest.raises(PredictorNotFoundError):
        resolve_predictor("my-cpu")


def test_registering_a_folder_that_is_no_predictor_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PredictorNotFoundError, match="fusion_rules.json"):
        register_predictor("x", tmp_path / "empty")


def test_registered_predictor_whose_folder_vanished(tmp_path, synthetic_predictor):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(synthetic_predictor, copy)
    register_predictor("gone", copy)
    shutil.rmtree(copy)
    with pytest.raises(PredictorNotFoundError, match="registry"):
        load_predictor("gone")


class _OldSklearnForest:  # stands in for a class that no longer exists where the pickle says
    pass


def test_unloadable_pickle_says_which_file_and_how_to_rebuild(tmp_path, synthetic_predictor):
    import shutil

    folder = tmp_path / "old"
    shutil.copytree(synthetic_predictor, folder)
    # a pickle referring to a module path that scikit-learn removed (as nn-Meter's 0.23 pickles do)
    blob = pickle.dumps(_OldSklearnForest()).replace(b"test_predictors", b"sklearn.ensemble.forest_")
    (folder / "fc.pkl").write_bytes(blob)
    with pytest.raises(PredictorLoadError) as err:
        load_predictor(folder)
    text = str(err.value)
    assert "fc.pkl" in text and "scikit-learn" in text and "build_predictor" in text
    (folder / "training_data").mkdir()
    (folder / "metadata.json").write_text(json.dumps({"versions": {"scikit-learn": "0.23.1"}}))
    with pytest.raises(PredictorLoadError, match=r"rebuild_predictor.*") as err:
        load_predictor(folder)
    assert "0.23.1" in str(err.value)


def test_registry_entry_point():
    import nas_core

    assert "nn-meter" in nas_core.available("profiler")
