"""Errors of the nn-Meter profiler."""
from nas_core.errors import ProfilerError

__all__ = ["PredictorNotFoundError", "PredictorLoadError", "PredictorBuildError"]


class PredictorNotFoundError(ProfilerError):
    """A predictor name or folder that is not present (nothing is ever downloaded)."""


class PredictorLoadError(ProfilerError):
    """A predictor folder whose files cannot be read (e.g. pickled by another scikit-learn)."""


class PredictorBuildError(ProfilerError):
    """Building or rebuilding a predictor failed (bad configuration, missing training data)."""
