"""``harness view``'s web app: server-rendered pages over one results store.

Routes (every one reads the store fresh; nothing is cached between requests):

- ``/``: runs, newest first
- ``/runs/{run}``: the run's conditions with completion, and its episodes filtered by the
  query parameters ``condition``, ``family``, ``success``, ``termination``
- ``/runs/{run}/episodes/{condition}/{task}/{repeat}``: one episode
- ``/runs/{run}/episodes/{condition}/{task}/{repeat}/causal``: that episode re-run (read-only,
  as ``harness trace`` does) for its observability layer's full record, drawn
- ``/runs/{run}/compare/{task}/{repeat}?a=COND&b=COND``: two conditions side by side

An unknown run, condition or episode is a 404 page naming it; a store that became
unreadable while serving is a 503 page with the store's one-line message. Endpoints are
plain functions: Starlette runs them in its thread pool, so a slow read or a re-run does not
hold up other requests.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from harness.core.errors import StoreError, UserInputError
from harness.view import dag, queries
from harness.view.queries import EpisodeKey, NotFound

HERE = Path(__file__).parent
MAX_ROWS = 1000  # episodes listed on a run page; the filters narrow a bigger run


def _fmt(value: Any) -> str:
    """A cell as text: no 'nan' or 'NaT', floats to 3 significant places, times to the second."""
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dt.datetime):  # pandas' Timestamp is one too
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _args_text(args: Any) -> str:
    """A call's arguments to read: ``key: value`` a line, strings as they are (a file body
    keeps its line breaks), anything else as JSON. The template escapes it."""
    if not isinstance(args, dict):
        return json.dumps(args, ensure_ascii=False, default=str)
    return "\n".join(f"{k}: {v}" if isinstance(v, str) else f"{k}: {json.dumps(v, ensure_ascii=False, default=str)}"
                     for k, v in args.items())


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["fmt"] = _fmt
    t.env.filters["args_text"] = _args_text
    return t


def _repeat(request: Request) -> int:
    text = request.path_params["repeat"]
    if not text.isdigit():
        raise NotFound(f"repeat must be a number >= 0, got {text!r}")
    return int(text)


def create_app(db: str | Path) -> Starlette:
    db = str(db)
    templates = _templates()

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"db": db, **context}, status_code=status)

    def runs(request: Request) -> HTMLResponse:
        return page(request, "runs.html", runs=queries.runs(db).to_dict("records"))

    def run(request: Request) -> HTMLResponse:
        run_id = request.path_params["run"]
        params = dict(request.query_params)
        data = queries.run_page(db, run_id, params)
        shown = data.episodes.head(MAX_ROWS)  # a big run's full list would be a page no browser wants
        return page(request, "run.html", run=data.info, conditions=data.conditions.to_dict("records"),
                    episodes=shown.to_dict("records"), matched=len(data.episodes), choices=data.choices,
                    params=params)

    def episode(request: Request) -> HTMLResponse:
        p = request.path_params
        key = EpisodeKey(p["run"], p["condition"], p["task"], _repeat(request))
        view = queries.episode(db, key)
        title = dag.verdict_title(key, view.row, view.verdicts)
        picture = dag.svg(dag.dot_source(title, view.actions))
        sessions = _sessions(view.actions, view.briefs)
        return page(request, "episode.html", v=view, key=key, pair=view.pair, dag_title=title, svg=picture,
                    sessions=sessions, not_recorded=queries.NOT_RECORDED)

    def causal(request: Request) -> HTMLResponse:
        p = request.path_params
        key = EpisodeKey(p["run"], p["condition"], p["task"], _repeat(request))
        view = queries.episode(db, key)  # 404 before anything runs
        title = dag.verdict_title(key, view.row, view.verdicts)
        from harness.experiment.rerun import rerun_episode  # the runtime only for this page

        try:
            record = rerun_episode(db, key.run_id, key.condition, key.task_id, key.repeat).record
        except StoreError:
            raise
        except UserInputError as exc:  # the re-run does not come out as stored: the code changed
            return page(request, "error.html", status=409, code=409, message=exc.message, hint=exc.hint)
        variant = (record or {}).get("variant")
        deps = request.query_params.get("deps") != "hide"
        picture = dag.svg(dag.record_dot(title, record, deps=deps)) if variant == "causal" else None
        return page(request, "causal.html", key=key, v=view, record=record, variant=variant, svg=picture,
                    dag_title=title, deps=deps)

    def compare(request: Request) -> HTMLResponse:
        p = request.path_params
        repeat = _repeat(request)
        run_id, task = p["run"], p["task"]
        a, b = request.query_params.get("a"), request.query_params.get("b")
        if not a or not b:
            raise NotFound("the side-by-side view needs two conditions: ?a=CONDITION&b=CONDITION")
        left = queries.episode(db, EpisodeKey(run_id, a, task, repeat))
        right = queries.episode(db, EpisodeKey(run_id, b, task, repeat))
        return page(request, "compare.html", left=left, right=right, run_id=run_id, task=task, repeat=repeat,
                    header=queries.header_diff(left.row, right.row), rows=queries.align(left.actions, right.actions),
                    not_recorded=queries.NOT_RECORDED)

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        detail = str(exc) if isinstance(exc, NotFound) else f"no page at {request.url.path}"
        return page(request, "error.html", status=404, code=404, message=detail)

    async def store_error(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, StoreError)
        return page(request, "error.html", status=503, code=503, message=exc.message, hint=exc.hint)

    async def http_error(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return await not_found(request, exc)
        return page(request, "error.html", status=exc.status_code, code=exc.status_code, message=str(exc.detail))

    routes = [
        Route("/", runs, name="runs"),
        Route("/runs/{run}", run, name="run"),
        Route("/runs/{run}/episodes/{condition}/{task}/{repeat}", episode, name="episode"),
        Route("/runs/{run}/episodes/{condition}/{task}/{repeat}/causal", causal, name="causal"),
        Route("/runs/{run}/compare/{task}/{repeat}", compare, name="compare"),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={
        NotFound: not_found, StoreError: store_error, HTTPException: http_error})


def _sessions(actions: Any, briefs: list[str]) -> list[tuple[Any, str | None, list[dict[str, Any]]]]:
    """(session, its brief, its actions) in order; sessions count from 0 like the runtime's
    session index. Without stored sessions the actions form one group."""
    groups: list[tuple[Any, list[dict[str, Any]]]] = []
    for a in actions.to_dict("records"):
        s = a.get("session")
        s = None if s is None or (isinstance(s, float) and math.isnan(s)) else int(s)
        if not groups or groups[-1][0] != s:
            groups.append((s, []))
        groups[-1][1].append(a)
    seen = {s for s, _ in groups}
    # a session whose agent took no action still had a brief
    groups += [(i, []) for i in range(len(briefs)) if i not in seen]
    groups.sort(key=lambda g: -1 if g[0] is None else g[0])
    return [(s, briefs[s] if s is not None and 0 <= s < len(briefs) else None, acts) for s, acts in groups]
