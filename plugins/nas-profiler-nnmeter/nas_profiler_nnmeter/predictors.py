"""Finding, registering and loading nn-Meter predictor folders. Nothing is ever downloaded.

A predictor folder (nn-Meter's format) holds one scikit-learn regressor per kernel type,
pickled as ``<kernel>.pkl`` (``conv-bn-relu.pkl``, ``dwconv-bn-relu.pkl``, ``fc.pkl``...), and
``fusion_rules.json``. Folders built by this plugin add ``metadata.json`` (library versions,
device, backend) and ``training_data/<kernel>.csv`` (features and measured latencies), so
:func:`~nas_profiler_nnmeter.builder.rebuild_predictor` can refit them after an upgrade.

Names resolve in this order: an existing folder path; a name registered with
:func:`register_predictor` (a YAML registry under :func:`data_home`); a published nn-Meter
predictor (``cortexA76cpu_tflite21``...) already unpacked where nn-Meter keeps it
(``~/.nn_meter/data/predictor/<name>``).
"""
from __future__ import annotations

import difflib
import importlib.util
import json
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nas_profiler_nnmeter.errors import PredictorLoadError, PredictorNotFoundError

__all__ = [
    "PredictorInfo",
    "LoadedPredictor",
    "data_home",
    "registry_path",
    "nn_meter_predictor_home",
    "published_predictors",
    "registered_predictors",
    "register_predictor",
    "unregister_predictor",
    "resolve_predictor",
    "load_predictor",
    "FUSION_RULES_FILE",
    "METADATA_FILE",
    "TRAINING_DATA_DIR",
]

FUSION_RULES_FILE = "fusion_rules.json"
METADATA_FILE = "metadata.json"
TRAINING_DATA_DIR = "training_data"


@dataclass
class PredictorInfo:
    """Where a predictor lives and which kernel regressors it must have."""

    name: str
    folder: Path
    version: str | None = None
    kernels: list[str] = field(default_factory=list)  # required .pkl names (empty: whatever is there)
    source: str = "folder"  # "folder", "registered" or "published"
    download: str | None = None  # the published archive's address (for the error text only)


@dataclass
class LoadedPredictor:
    """A loaded predictor: kernel name -> regressor, the fusion rules file, and its metadata."""

    info: PredictorInfo
    regressors: dict[str, Any]
    fusion_rules_path: Path
    fusion_rules: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def folder(self) -> Path:
        return self.info.folder


def data_home() -> Path:
    """This plugin's data folder: ``$NAS_NNMETER_HOME``, else ``~/.nas_core/nn_meter``."""
    env = os.environ.get("NAS_NNMETER_HOME")
    return Path(env).expanduser() if env else Path.home() / ".nas_core" / "nn_meter"


def registry_path() -> Path:
    """The YAML registry of predictors registered with :func:`register_predictor`."""
    return data_home() / "predictors.yaml"


def nn_meter_predictor_home() -> Path:
    """Where nn-Meter keeps unpacked published predictors (``<data_folder>/predictor``).

    Reads nn-Meter's ``~/.nn_meter/config/settings.yaml`` when present (without creating it),
    else nn-Meter's default ``~/.nn_meter/data``.
    """
    settings = Path.home() / ".nn_meter" / "config" / "settings.yaml"
    data = Path.home() / ".nn_meter" / "data"
    if settings.is_file():
        try:
            cfg = yaml.safe_load(settings.read_text()) or {}
            if cfg.get("data_folder"):
                data = Path(str(cfg["data_folder"])).expanduser()
        except (OSError, yaml.YAMLError):
            pass
    return data / "predictor"


def published_predictors() -> list[dict[str, Any]]:
    """nn-Meter's published predictors (name, version, kernel_predictors, download), from its package."""
    spec = importlib.util.find_spec("nn_meter")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(list(spec.submodule_search_locations)[0]) / "configs" / "predictors.yaml"
    try:
        return list(yaml.safe_load(path.read_text()) or [])
    except (OSError, yaml.YAMLError):
        return []


def registered_predictors() -> list[dict[str, Any]]:
    """Entries of the local registry: name, version, package_location, kernel_predictors."""
    path = registry_path()
    if not path.is_file():
        return []
    try:
        entries = yaml.safe_load(path.read_text()) or []
    except yaml.YAMLError as err:
        raise PredictorLoadError(f"the predictor registry {path} is not valid YAML ({err}); fix or delete it.") from err
    if not isinstance(entries, list):
        raise PredictorLoadError(f"the predictor registry {path} must be a YAML list of predictors; fix or delete it.")
    return entries


def _write_registry(entries: list[dict[str, Any]]) -> None:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(entries, sort_keys=False))
    tmp.replace(path)


def _kernels_in(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.pkl"))


def register_predictor(name: str, folder: str | os.PathLike, version: str | float | None = None,
                       overwrite: bool = True) -> dict[str, Any]:
    """Register the predictor in ``folder`` under ``name`` (then ``NnMeterProfiler(..., predictor=name)``).

    The entry uses nn-Meter's customized-predictor fields (``name``, ``version``,
    ``category``, ``package_location``, ``kernel_predictors``). ``version`` defaults to the
    folder's metadata version, else ``1.0``. Registering a name again replaces its entry for
    that version unless ``overwrite=False``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a predictor name must be a non-empty string, got {name!r}.")
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise PredictorNotFoundError(f"cannot register {name!r}: folder {folder} does not exist.")
    kernels = _kernels_in(folder)
    missing = [f for f in (FUSION_RULES_FILE,) if not (folder / f).is_file()] + ([] if kernels else ["<kernel>.pkl files"])
    if missing:
        raise PredictorNotFoundError(
            f"cannot register {name!r}: {folder} is not an nn-Meter predictor folder (missing {', '.join(missing)}). "
            "Build one with nas_profiler_nnmeter.build_predictor(folder, ...)."
        )
    meta = _read_metadata(folder)
    version = str(version if version is not None else meta.get("version", "1.0"))
    entry = {"name": name, "version": version, "category": meta.get("category", "cpu"),
             "package_location": str(folder), "kernel_predictors": kernels}
    entries = registered_predictors()
    same = [e for e in entries if e.get("name") == name and str(e.get("version")) == version]
    if same and not overwrite:
        raise ValueError(f"predictor {name!r} version {version} is already registered at "
                         f"{same[0].get('package_location')}; pass overwrite=True to replace it.")
    entries = [e for e in entries if not (e.get("name") == name and str(e.get("version")) == version)] + [entry]
    _write_registry(entries)
    return entry


def unregister_predictor(name: str, version: str | float | None = None) -> int:
    """Remove ``name`` (all versions, or one) from the registry; returns how many entries went."""
    entries = registered_predictors()
    keep = [e for e in entries if not (e.get("name") == name and (version is None or str(e.get("version")) == str(version)))]
    _write_registry(keep)
    return len(entries) - len(keep)


def _latest(entries: list[dict[str, Any]]) -> dict[str, Any]:
    from packaging.version import InvalidVersion, Version

    def key(e: dict[str, Any]) -> Any:
        try:
            return (1, Version(str(e.get("version"))))
        except InvalidVersion:
            return (0, str(e.get("version")))

    return max(entries, key=key)


def resolve_predictor(predictor: str | os.PathLike, version: str | float | None = None) -> PredictorInfo:
    """Where ``predictor`` (a folder, a registered name or a published name) lives. Checks nothing on disk."""
    if isinstance(predictor, os.PathLike) or (isinstance(predictor, str) and (os.sep in predictor or predictor.startswith("."))):
        folder = Path(predictor).expanduser().resolve()
        if not folder.is_dir():
            raise PredictorNotFoundError(
                f"predictor folder {folder} does not exist. Pass an nn-Meter predictor folder (with <kernel>.pkl "
                "files and fusion_rules.json), a registered name, or build one with "
                "nas_profiler_nnmeter.build_predictor(folder, ...)."
            )
        return PredictorInfo(folder.name, folder, str(version) if version is not None else None, [], "folder")
    if not isinstance(predictor, str) or not predictor:
        raise TypeError(f"predictor must be a name or a folder path, got {predictor!r}.")
    def matches(e: dict[str, Any]) -> bool:
        return e.get("name") == predictor and (version is None or str(e.get("version")) == str(version))

    reg = [e for e in registered_predictors() if matches(e)]
    if reg:
        e = _latest(reg)
        return PredictorInfo(predictor, Path(str(e["package_location"])).expanduser(), str(e.get("version")),
                             list(e.get("kernel_predictors") or []), "registered")
    pub = [e for e in published_predictors() if matches(e)]
    if pub:
        e = _latest(pub)
        return PredictorInfo(predictor, nn_meter_predictor_home() / predictor, str(e.get("version")),
                             list(e.get("kernel_predictors") or []), "published", e.get("download"))
    if Path(predictor).expanduser().is_dir():  # a relative folder name without a path separator
        folder = Path(predictor).expanduser().resolve()
        return PredictorInfo(folder.name, folder, str(version) if version is not None else None, [], "folder")
    known = sorted({str(e.get("name")) for e in registered_predictors() + published_predictors()})
    close = difflib.get_close_matches(predictor, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    which = f" version {version}" if version is not None else ""
    raise PredictorNotFoundError(
        f"unknown nn-Meter predictor {predictor!r}{which}.{hint} Known names: {', '.join(known) or 'none'}. "
        "Pass a predictor folder path, or build and register one for your device: "
        "nas_profiler_nnmeter.build_predictor(folder, ...) then register_predictor(name, folder)."
    )


def _read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise PredictorLoadError(f"{path} is not valid JSON ({err}); rebuild the predictor or fix the file.") from err


def _how_to_build(folder: Path) -> str:
    return (
        "To build a replacement for your own device from measured latencies: "
        f"nas_profiler_nnmeter.build_predictor({str(folder)!r}) (measures kernels on this CPU with the on-device "
        "profiler), then nas_profiler_nnmeter.register_predictor(name, folder) and "
        "NnMeterProfiler(space, dummy_input, predictor=name). See docs/nn-meter.md."
    )


def _missing_message(info: PredictorInfo, missing: list[str]) -> str:
    where = f"nn-Meter predictor {info.name!r}" + (f" (version {info.version})" if info.version else "")
    text = (
        f"{where} is not present: {info.folder} lacks {', '.join(missing)}. nas-profiler-nnmeter never downloads "
        "predictors. "
    )
    if info.source == "published":
        text += (
            f"Put the unpacked files of nn-Meter's release archive ({info.download}) in {info.folder} "
            "(the folder nn-Meter expects); note nn-Meter's published pickles were made with scikit-learn 0.23, "
            "which current scikit-learn cannot load (nn-Meter issue #131). "
        )
    elif info.source == "registered":
        text += f"The registry ({registry_path()}) points {info.name!r} at this folder; restore it or register again. "
    return text + _how_to_build(info.folder)


def load_predictor(predictor: str | os.PathLike, version: str | float | None = None) -> LoadedPredictor:
    """Resolve ``predictor``, check its files and unpickle its kernel regressors.

    Raises :class:`PredictorNotFoundError` naming the missing files and the folder they
    belong in, or :class:`PredictorLoadError` when a pickle cannot be loaded by the
    installed scikit-learn (with how to rebuild it).
    """
    info = predictor if isinstance(predictor, PredictorInfo) else resolve_predictor(predictor, version)
    folder = info.folder
    if not folder.is_dir():
        needed = [f"{k}.pkl" for k in info.kernels] + [FUSION_RULES_FILE]
        raise PredictorNotFoundError(_missing_message(info, needed if info.kernels else ["<kernel>.pkl", FUSION_RULES_FILE]))
    kernels = info.kernels or _kernels_in(folder)
    missing = [f"{k}.pkl" for k in kernels if not (folder / f"{k}.pkl").is_file()]
    if not kernels:
        missing.append("<kernel>.pkl files")
    if not (folder / FUSION_RULES_FILE).is_file():
        missing.append(FUSION_RULES_FILE)
    if missing:
        raise PredictorNotFoundError(_missing_message(info, missing))
    metadata = _read_metadata(folder)
    try:
        rules = json.loads((folder / FUSION_RULES_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise PredictorLoadError(f"{folder / FUSION_RULES_FILE} is not valid JSON ({err}). " + _how_to_build(folder)) from err
    regressors = {}
    import sklearn

    for k in _kernels_in(folder):
        path = folder / f"{k}.pkl"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with open(path, "rb") as fh:
                    regressors[k] = pickle.load(fh)
            except Exception as err:  # noqa: BLE001 - any unpickling failure is reported the same way
                made_with = metadata.get("versions", {}).get("scikit-learn", "an unknown release (0.23 for nn-Meter's published predictors)")
                can_rebuild = (folder / TRAINING_DATA_DIR).is_dir()
                fix = (f"Its training data is kept, so refit it with nas_profiler_nnmeter.rebuild_predictor({str(folder)!r})."
                       if can_rebuild else _how_to_build(folder))
                raise PredictorLoadError(
                    f"cannot load kernel predictor {path} with scikit-learn {sklearn.__version__} "
                    f"({type(err).__name__}: {err}); it was pickled with scikit-learn {made_with}. " + fix
                ) from err
        mismatch = [w for w in caught if type(w.message).__name__ == "InconsistentVersionWarning"]
        if mismatch:
            warnings.warn(
                f"kernel predictor {path} was pickled with another scikit-learn ({mismatch[0].message}); its predictions "
                f"may be wrong. Refit it with nas_profiler_nnmeter.rebuild_predictor({str(folder)!r}).",
                RuntimeWarning, stacklevel=2)
    return LoadedPredictor(info, regressors, folder / FUSION_RULES_FILE, rules, metadata)
