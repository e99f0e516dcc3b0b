"""Importing nn-Meter 2.0 on current Python packaging, and its kernel feature functions.

nn-Meter 2.0 imports ``pkg_resources`` at module level (to copy its config files), which
setuptools removed in release 81. When it is missing, a minimal stand-in offering the three
calls nn-Meter makes (``resource_filename``, ``resource_listdir``, ``require``) is put in
``sys.modules`` only while nn-Meter is imported, then taken out again, so no other library
sees it. Nothing here ever asks nn-Meter to download anything.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import logging
import sys
import types
from typing import Any

from nas_core.errors import ProfilerError

__all__ = ["nn_meter_module", "kernel_features", "kernel_predictor_name", "NN_METER_VERSION"]

NN_METER_VERSION = "2.0"


def _pkg_resources_standin() -> types.ModuleType:
    mod = types.ModuleType("pkg_resources")

    def resource_filename(package: str, name: str) -> str:
        return str(importlib.resources.files(package).joinpath(name))

    def resource_listdir(package: str, name: str) -> list[str]:
        return [p.name for p in importlib.resources.files(package).joinpath(name).iterdir()]

    class _Dist:
        def __init__(self, project: str) -> None:
            self.version = importlib.metadata.version(project)

    mod.resource_filename = resource_filename  # type: ignore[attr-defined]
    mod.resource_listdir = resource_listdir  # type: ignore[attr-defined]
    mod.require = lambda project: [_Dist(project)]  # type: ignore[attr-defined]
    return mod


def nn_meter_module(name: str = "nn_meter") -> Any:
    """Import ``name`` (``nn_meter`` or one of its submodules), with a clear error if it is absent."""
    if name in sys.modules:
        return sys.modules[name]
    added = False
    try:
        importlib.import_module("pkg_resources")
    except ImportError:
        sys.modules["pkg_resources"] = _pkg_resources_standin()
        added = True
    try:
        mod = importlib.import_module(name)
    except ImportError as err:
        raise ProfilerError(
            f"nn-Meter could not be imported ({err}). Install it with `pip install nn-meter=={NN_METER_VERSION}` "
            "(nas-profiler-nnmeter depends on it)."
        ) from err
    finally:
        if added:
            sys.modules.pop("pkg_resources", None)
    # nn-Meter logs every prediction at INFO level to stdout; keep it to warnings.
    logging.getLogger("nn-Meter").setLevel(logging.WARNING)
    return mod


def kernel_features(kernel: dict[str, Any]) -> tuple[str, list[float]] | None:
    """(predictor name, feature vector) of one nn-Meter kernel dict, exactly as nn-Meter computes them.

    Returns None for kernels nn-Meter has no features for (it skips them when predicting).
    """
    extract = nn_meter_module("nn_meter.predictor.prediction.extract_feature")
    feats = extract.get_predict_features([kernel])
    if not feats:
        return None
    op, values = next(iter(feats[0].items()))
    return kernel_predictor_name(op), list(values)


def kernel_predictor_name(op: str) -> str:
    """The predictor (``.pkl``) name nn-Meter uses for a kernel op such as ``conv-bn-relu``."""
    by_kernel = nn_meter_module("nn_meter.predictor.prediction.predict_by_kernel")
    utils = nn_meter_module("nn_meter.predictor.prediction.utils")
    return utils.get_kernel_name(by_kernel.merge_conv_kernels(op))
