"""Building nn-Meter predictors for your own device from measured kernel latencies.

Each kernel configuration (a conv-bn-relu with given cin/cout/kernel/stride/input size, a
depthwise conv, an fc, a pooling, an add...) is built as a tiny PyTorch model, measured with
the on-device profiler's measurement API (``nas_profiler_device.measure.measure_latency``,
locally, or on a remote device through its ``AgentClient``), and one scikit-learn
RandomForestRegressor per kernel type is fitted on nn-Meter's own kernel features. The
result is an nn-Meter predictor folder::

    <folder>/conv-bn-relu.pkl, dwconv-bn-relu.pkl, ...   # nn-Meter's format
    <folder>/fusion_rules.json
    <folder>/metadata.json          # versions, device, backend, fit statistics
    <folder>/training_data/<kernel>.csv   # configurations, features, measured latencies
    <folder>/nnmeter_meta.yaml      # for `nn-meter register --predictor` (nn-Meter's own CLI)

``rebuild_predictor(folder)`` refits the pickles from the kept training data, e.g. after a
scikit-learn upgrade makes the old pickles unloadable.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import pickle
import platform
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch
import yaml
from torch import nn

from nas_profiler_nnmeter._nnmeter import NN_METER_VERSION, kernel_features
from nas_profiler_nnmeter.errors import PredictorBuildError
from nas_profiler_nnmeter.predictors import FUSION_RULES_FILE, METADATA_FILE, TRAINING_DATA_DIR

__all__ = [
    "KernelConfig",
    "KERNEL_TYPES",
    "DEFAULT_FUSION_RULES",
    "default_kernel_configs",
    "kernel_configs_from_kernels",
    "build_predictor",
    "rebuild_predictor",
    "fit_predictor",
    "fit_regressors",
    "write_csv",
    "versions",
    "write_nnmeter_meta",
    "Tiny",
]

#: kernel (predictor) types this builder can measure
KERNEL_TYPES = ("conv-bn-relu", "dwconv-bn-relu", "fc", "global-avgpool", "add", "addrelu", "relu", "bn", "bnrelu",
                "maxpool", "avgpool")

#: fusion rules for CPU runtimes that fuse conv/bn/activation (ONNX Runtime, TFLite): nn-Meter's format
DEFAULT_FUSION_RULES: dict[str, Any] = {
    "BF_conv_bn": {"obey": True},
    "BF_conv_relu": {"obey": True},
    "BF_dwconv_bn": {"obey": True},
    "BF_dwconv_relu": {"obey": True},
    "BF_bn_relu": {"obey": True},
    "BF_add_relu": {"obey": True},
    "BF_fc_relu": {"obey": False},
    "MON": {"obey": 0},
}

#: without bootstrap every tree sees every measurement, so the forest reproduces the measured latency at
#: each measured configuration (and is piecewise constant between them); a few trees average tie-breaks
_RF_DEFAULTS = {"n_estimators": 8, "min_samples_leaf": 1, "bootstrap": False, "max_features": 1.0}


@dataclass(frozen=True)
class KernelConfig:
    """One kernel to measure: its type and shape. ``hw`` is the input height = width."""

    kernel: str
    cin: int
    hw: int = 1
    cout: int = 0
    ks: int = 1
    stride: int = 1

    def __post_init__(self) -> None:
        if self.kernel not in KERNEL_TYPES:
            raise PredictorBuildError(f"unknown kernel type {self.kernel!r}; choose one of {', '.join(KERNEL_TYPES)}.")
        for name in ("cin", "hw", "ks", "stride"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise PredictorBuildError(f"KernelConfig.{name} must be a positive int, got {v!r} in {self}.")
        if self.kernel in ("conv-bn-relu", "fc") and (not isinstance(self.cout, int) or self.cout < 1):
            raise PredictorBuildError(f"a {self.kernel} KernelConfig needs cout >= 1, got {self.cout!r}.")

    @property
    def out_channels(self) -> int:
        return self.cout if self.kernel in ("conv-bn-relu", "fc") else self.cin

    def module(self) -> tuple[nn.Module, list[tuple[int, ...]]]:
        """The tiny model measured for this kernel and its input shapes."""
        c, k, s, hw = self.cin, self.ks, self.stride, self.hw
        x = (1, c, hw, hw)
        if self.kernel == "conv-bn-relu":
            return nn.Sequential(nn.Conv2d(c, self.cout, k, s, k // 2, bias=False), nn.BatchNorm2d(self.cout), nn.ReLU6()), [x]
        if self.kernel == "dwconv-bn-relu":
            return nn.Sequential(nn.Conv2d(c, c, k, s, k // 2, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU6()), [x]
        if self.kernel == "fc":
            return nn.Linear(c, self.cout), [(1, c)]
        if self.kernel == "global-avgpool":
            return nn.AdaptiveAvgPool2d(1), [x]
        if self.kernel in ("add", "addrelu"):
            return _Add(relu=self.kernel == "addrelu"), [x, x]
        if self.kernel == "relu":
            return nn.ReLU6(), [x]
        if self.kernel == "bn":
            return nn.BatchNorm2d(c), [x]
        if self.kernel == "bnrelu":
            return nn.Sequential(nn.BatchNorm2d(c), nn.ReLU6()), [x]
        if self.kernel == "maxpool":
            return nn.MaxPool2d(k, s, k // 2), [x]
        return nn.AvgPool2d(k, s, k // 2), [x]

    def nn_meter_kernel(self) -> dict[str, Any]:
        """nn-Meter's kernel dict for this configuration (what its kernel detector would produce)."""
        hw, c = self.hw, self.cin
        op = {"global-avgpool": "gap", "addrelu": "add-relu", "bnrelu": "bn-relu"}.get(self.kernel, self.kernel)
        if self.kernel == "fc":
            return {"op": "fc", "input_tensors": [[1, c]], "cin": c, "cout": self.cout}
        out_hw = -(-hw // self.stride) if self.kernel in ("conv-bn-relu", "dwconv-bn-relu", "maxpool", "avgpool") else hw
        kernel: dict[str, Any] = {"op": op, "input_tensors": [[1, hw, hw, c]] * (2 if self.kernel in ("add", "addrelu") else 1),
                                  "inputh": hw, "inputw": hw, "cin": c, "cout": self.out_channels}
        if self.kernel in ("conv-bn-relu", "dwconv-bn-relu", "maxpool", "avgpool"):
            kernel["ks"], kernel["strides"] = [self.ks, self.ks], [self.stride, self.stride]
        if self.kernel == "global-avgpool":
            kernel["cout"] = c
        del out_hw
        return kernel

    def features(self) -> list[float]:
        feats = kernel_features(self.nn_meter_kernel())
        if feats is None or feats[0] != self.kernel:
            raise PredictorBuildError(f"nn-Meter gives no {self.kernel} features for {self} (got {feats}).")
        return feats[1]


class _Add(nn.Module):
    def __init__(self, relu: bool) -> None:
        super().__init__()
        self.relu = relu

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        y = a + b
        return torch.relu(y) if self.relu else y


def default_kernel_configs(kernels: Sequence[str] = ("conv-bn-relu", "dwconv-bn-relu", "fc", "global-avgpool", "add"),
                           n_per_kernel: int = 20, seed: int = 0, hw: Sequence[int] = (4, 8, 16, 32),
                           channels: Sequence[int] = (8, 16, 24, 32, 48, 64, 96, 128, 192),
                           kernel_sizes: Sequence[int] = (1, 3, 5), strides: Sequence[int] = (1, 2)) -> list[KernelConfig]:
    """Random kernel configurations (seeded) over the given ranges, ``n_per_kernel`` of each type."""
    unknown = [k for k in kernels if k not in KERNEL_TYPES]
    if unknown:
        raise PredictorBuildError(f"unknown kernel type(s) {unknown}; choose from {', '.join(KERNEL_TYPES)}.")
    rng = random.Random(seed)
    out: list[KernelConfig] = []
    for kernel in kernels:
        seen: set[KernelConfig] = set()
        for _ in range(n_per_kernel * 20):
            if len(seen) >= n_per_kernel:
                break
            cfg = KernelConfig(kernel, cin=rng.choice(channels), hw=rng.choice(hw),
                               cout=rng.choice(channels) if kernel in ("conv-bn-relu", "fc") else 0,
                               ks=rng.choice(kernel_sizes) if kernel != "maxpool" and kernel != "avgpool" else rng.choice((2, 3)),
                               stride=rng.choice(strides) if kernel in ("conv-bn-relu", "dwconv-bn-relu", "maxpool", "avgpool") else 1)
            if kernel in ("fc", "global-avgpool", "add", "addrelu", "relu", "bn", "bnrelu"):
                cfg = KernelConfig(kernel, cin=cfg.cin, hw=1 if kernel == "fc" else cfg.hw, cout=cfg.cout)
            seen.add(cfg)
        out.extend(sorted(seen, key=lambda c: (c.hw, c.cin, c.cout, c.ks, c.stride)))
    return out


def kernel_configs_from_kernels(kernels: Iterable[Mapping[str, Any]]) -> list[KernelConfig]:
    """Configurations reproducing nn-Meter kernel dicts (e.g. every kernel of a space, from
    :meth:`NnMeterProfiler.kernel_dicts`), so a predictor can be fitted where a search needs it."""
    out: dict[KernelConfig, None] = {}
    for k in kernels:
        feats = kernel_features(dict(k))
        if feats is None or feats[0] not in KERNEL_TYPES:
            continue
        name = feats[0]
        c = int(k["cin"])
        hw = int(k.get("inputh", 1))
        ks = int(k["ks"][1]) if "ks" in k else 1
        s = int(k["strides"][1]) if "strides" in k else 1
        cout = int(k.get("cout", 0)) if name in ("conv-bn-relu", "fc") else 0
        if name == "dwconv-bn-relu" and int(k.get("cout", c)) != c:
            continue
        if name in ("relu", "bn", "bnrelu") and len(k["input_tensors"][0]) != 4:
            continue
        out[KernelConfig(name, cin=c, hw=1 if name == "fc" else hw, cout=cout, ks=ks, stride=s)] = None
    return list(out)


def versions() -> dict[str, str]:
    import sklearn

    out = {"python": platform.python_version(), "nn-meter": NN_METER_VERSION, "scikit-learn": sklearn.__version__,
           "torch": torch.__version__, "numpy": np.__version__}
    for mod in ("onnxruntime", "onnx"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    try:
        import importlib.metadata as md

        out["nn-meter"] = md.version("nn-meter")
    except Exception:  # noqa: BLE001
        pass
    return out


# -- fitting --------------------------------------------------------------------------------------------
def _fit(rows: list[dict[str, Any]], params: Mapping[str, Any], seed: int) -> tuple[Any, dict[str, float]]:
    from sklearn.ensemble import RandomForestRegressor

    X = np.asarray([r["features"] for r in rows], dtype=np.float64)
    y = np.asarray([r["latency_ms"] for r in rows], dtype=np.float64)
    model = RandomForestRegressor(random_state=seed, **params).fit(X, y)
    pred = model.predict(X)
    rel = np.abs(pred - y) / np.maximum(y, 1e-9)
    return model, {"samples": int(len(y)), "train_mape": float(rel.mean()), "train_within_10pct": float((rel <= 0.1).mean())}


def fit_regressors(rows_by_kernel: Mapping[str, list[dict[str, Any]]], params: Mapping[str, Any] | None = None,
                   seed: int = 0) -> dict[str, Any]:
    """One fitted regressor per kernel type (in memory; the builder's stability check compares two sets)."""
    params = {**_RF_DEFAULTS, **(params or {})}
    return {k: _fit(rows, params, seed)[0] for k, rows in rows_by_kernel.items() if rows}


def fit_predictor(folder: str | os.PathLike, rows_by_kernel: Mapping[str, list[dict[str, Any]]],
                  params: Mapping[str, Any] | None = None, seed: int = 0) -> dict[str, dict[str, float]]:
    """Fit and pickle one regressor per kernel from ``{kernel: [{"features": [...], "latency_ms": x}, ...]}``."""
    folder = Path(folder)
    params = {**_RF_DEFAULTS, **(params or {})}
    stats = {}
    for kernel, rows in rows_by_kernel.items():
        if not rows:
            continue
        model, stats[kernel] = _fit(rows, params, seed)
        with open(folder / f"{kernel}.pkl", "wb") as fh:
            pickle.dump(model, fh)
    return stats


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    cols = [f.name for f in fields(KernelConfig)]
    nfeat = max(len(r["features"]) for r in rows)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols + [f"feature_{i}" for i in range(nfeat)] + ["latency_ms", "median_ms", "spread"])
        for r in rows:
            cfg = r["config"]
            w.writerow([cfg[c] for c in cols] + list(r["features"]) + [r["latency_ms"], r["median_ms"], r["spread"]])


def _read_csv(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            feats = [float(rec[k]) for k in sorted((k for k in rec if k.startswith("feature_")), key=lambda k: int(k[8:]))
                     if rec[k] != ""]
            cfg = {f.name: (rec[f.name] if f.name == "kernel" else int(rec[f.name])) for f in fields(KernelConfig)}
            rows.append({"config": cfg, "features": feats, "latency_ms": float(rec["latency_ms"]),
                         "median_ms": float(rec["median_ms"]), "spread": float(rec["spread"])})
    return rows


class Tiny(nn.Module):
    """The smallest model ONNX Runtime will run: one element-wise op on one element."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def write_nnmeter_meta(folder: Path, name: str, meta: Mapping[str, Any]) -> None:
    entry = {"name": name, "version": float(meta.get("version", 1.0)), "category": meta.get("category", "cpu"),
             "package_location": str(folder), "kernel_predictors": sorted(p.stem for p in folder.glob("*.pkl"))}
    (folder / "nnmeter_meta.yaml").write_text(yaml.safe_dump(entry, sort_keys=False))


def rebuild_predictor(folder: str | os.PathLike) -> dict[str, dict[str, float]]:
    """Refit every kernel regressor of ``folder`` from its kept training data with the installed scikit-learn.

    Use it when the pickles cannot be loaded after an upgrade. The regressor settings and
    seed come from ``metadata.json``; the versions recorded there are updated.
    """
    folder = Path(folder).expanduser().resolve()
    data = folder / TRAINING_DATA_DIR
    csvs = sorted(data.glob("*.csv")) if data.is_dir() else []
    if not csvs:
        raise PredictorBuildError(
            f"cannot rebuild {folder}: it has no training data ({data}/<kernel>.csv). Only predictors built with "
            "nas_profiler_nnmeter.build_predictor keep it; build a new one with build_predictor(folder, ...)."
        )
    meta_path = folder / METADATA_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    reg = meta.get("regressor", {})
    rows = {p.stem: _read_csv(p) for p in csvs}
    stats = fit_predictor(folder, rows, reg.get("params"), int(reg.get("seed", 0)))
    meta.setdefault("rebuilt", []).append({"at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                                           "previous_versions": meta.get("versions", {})})
    meta["versions"] = versions()
    meta["kernels"] = stats
    meta_path.write_text(json.dumps(meta, indent=2))
    if not (folder / FUSION_RULES_FILE).is_file():
        (folder / FUSION_RULES_FILE).write_text(json.dumps(DEFAULT_FUSION_RULES, indent=2))
    write_nnmeter_meta(folder, str(meta.get("name", folder.name)), meta)
    return stats


from nas_profiler_nnmeter.build import build_predictor  # noqa: E402 - the builder's entry point lives there
