"""``nas dashboard``: a live, read-only web view of nas-core experiments.

Starlette and uvicorn serve a JSON API over the experiments' SQLite stores (opened
read-only, queried with the core's ``TrialQuery``) and one page that draws with
Plotly.js, served from the ``plotly`` package.
"""
from __future__ import annotations

from nas_dashboard.app import create_app
from nas_dashboard.experiment import ExperimentView
from nas_dashboard.folders import find_experiments

__all__ = ["create_app", "ExperimentView", "find_experiments"]
