"""The Starlette application: a JSON API over the experiments, the page, and Plotly.js from the plotly package."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from nas_core.errors import ConfigError

from nas_dashboard.experiment import ExperimentView
from nas_dashboard.security import ReadOnlyTokenMiddleware

__all__ = ["create_app", "plotly_js_path", "STATIC"]

STATIC = Path(__file__).parent / "static"


def plotly_js_path() -> Path:
    """Plotly.js as shipped inside the ``plotly`` Python package (served locally, no CDN)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"the plotly package at {Path(plotly.__file__).parent} has no package_data/plotly.min.js; "
                          "reinstall it: pip install --force-reinstall plotly")
    return path


def _names(workdirs: Sequence[Path]) -> list[str]:
    """Folder names, made unique with their parent's name where two folders share one."""
    names = [p.name for p in workdirs]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in workdirs]


def create_app(workdirs: Sequence[str | Path], token: str | None = None, host: str = "127.0.0.1") -> Any:
    """The dashboard for ``workdirs`` (experiment folders); with ``token``, every request must carry it.

    Without a token, only requests addressed to a loopback name (``Host: localhost``,
    ``127.0.0.1``, ``[::1]`` or ``host``) are answered, so a web page elsewhere cannot
    read the API through DNS rebinding.
    """
    paths = [Path(p) for p in workdirs]
    views = [ExperimentView(p, name) for p, name in zip(paths, _names(paths))]

    def view(request: Request) -> ExperimentView:
        i = int(request.path_params["exp"])
        if not 0 <= i < len(views):
            raise LookupError(f"no experiment #{i}; this dashboard serves experiments 0..{len(views) - 1}.")
        return views[i]

    def api(fn: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(fn(request), headers={"cache-control": "no-store"})
            except LookupError as err:
                return JSONResponse({"error": str(err).strip("'\"")}, status_code=404)
            except (ConfigError, ValueError) as err:
                return JSONResponse({"error": str(err)}, status_code=400)
        return endpoint

    def experiments(request: Request) -> Any:
        return [{"index": i, **v.summary()} for i, v in enumerate(views)]

    def summary(request: Request) -> Any:
        return view(request).summary()

    def trials(request: Request) -> Any:
        q = request.query_params
        return view(request).page(
            sort=q.get("sort", "id"), descending=q.get("order", "asc") == "desc", status=q.get("status") or None,
            search=q.get("q") or None, offset=_int(q, "offset", 0), limit=_int(q, "limit", 50))

    def trial(request: Request) -> Any:
        return view(request).trial(int(request.path_params["trial"]))

    def architecture(request: Request) -> Response:
        v, tid = view(request), int(request.path_params["trial"])
        try:
            arch = v.architecture(tid)
        except LookupError as err:
            return JSONResponse({"error": str(err).strip("'\"")}, status_code=404)
        filename = f"{v.name.replace('/', '_')}_trial{tid}_architecture.json"
        return Response(json.dumps(arch, indent=2) + "\n", media_type="application/json",
                        headers={"content-disposition": f'attachment; filename="{filename}"'})

    def pareto(request: Request) -> Any:
        q = request.query_params
        v = view(request)
        summary = v.summary()
        values = summary["columns"]["values"]
        if len(values) < 1:
            raise ConfigError(f"experiment {v.name!r} has no metric or cost to plot yet.")
        x = q.get("x") or (values[1] if len(values) > 1 else values[0])
        y = q.get("y") or values[0]
        return v.pareto(x, y, q.get("dx") or None, q.get("dy") or None)

    def best_so_far(request: Request) -> Any:
        return view(request).best_so_far()

    def labels(request: Request) -> Any:
        return view(request).label_effects()

    def oneshot(request: Request) -> Any:
        return view(request).oneshot()

    def compare(request: Request) -> Any:
        picked = request.query_params.getlist("exp") or [str(i) for i in range(len(views))]
        out = []
        for s in picked:
            if not s.isdigit() or int(s) >= len(views):
                raise LookupError(f"no experiment #{s}; this dashboard serves experiments 0..{len(views) - 1}.")
            v = views[int(s)]
            summary = v.summary()
            values = summary["columns"]["values"]
            front = v.pareto(values[1], values[0]) if len(values) > 1 else None
            out.append({"index": int(s), "name": v.name, "best_so_far": v.best_so_far(), "pareto": front})
        return out

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    def plotly_js(request: Request) -> Response:
        return FileResponse(plotly_js_path(), media_type="text/javascript", headers={"cache-control": "max-age=3600"})

    routes = [
        Route("/", index),
        Route("/plotly.min.js", plotly_js),
        Route("/api/experiments", api(experiments)),
        Route("/api/compare", api(compare)),
        Route("/api/exp/{exp:int}/summary", api(summary)),
        Route("/api/exp/{exp:int}/trials", api(trials)),
        Route("/api/exp/{exp:int}/trials/{trial:int}", api(trial)),
        Route("/api/exp/{exp:int}/trials/{trial:int}/architecture.json", architecture),
        Route("/api/exp/{exp:int}/pareto", api(pareto)),
        Route("/api/exp/{exp:int}/best-so-far", api(best_so_far)),
        Route("/api/exp/{exp:int}/labels", api(labels)),
        Route("/api/exp/{exp:int}/oneshot", api(oneshot)),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    hosts = ["*"] if token else sorted({"localhost", "127.0.0.1", "::1", "[::1]", host, f"[{host}]"})
    app = Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
    app.state.views = views
    return ReadOnlyTokenMiddleware(app, token)


def _int(q: Any, name: str, default: int) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"query parameter {name!r} must be an integer, got {raw!r}.") from None
