"""The HTTP side of ``python -m controller play``: one page and a small JSON API, standard library only.

    GET  /              the page (controller/play_page.html)
    GET  /api/info      the run: experiment, default τ, step cap, actions, whether M predicts death and C exists
    POST /api/new       {"mode": "dream"|"real", "seed": int?, "temperature": τ?} -> a new session's state
    POST /api/reset     {"session", "seed": int?} -> the restarted session's state
    POST /api/step      {"session", "action": null | -1 | 0 | 1 (Doom) | [steer, gas, brake] (CarRacing),
                         "temperature": τ?} -> the state after one step (null: C acts)

A state is {"session", "mode", "frame" (PNG data URL), "step", "seed", "done", "end", "temperature",
"death_probability", "action", "by"}. Bad input gets HTTP 400 with {"error": "..."}, an unknown session 404.
"""
from __future__ import annotations

import json
import math
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from controller.play_session import DOOM_ACTIONS, MAX_SEED, DreamSession, Models, RealSession, Sessions
from envs.actions import CARRACING_HIGH, CARRACING_LOW

PAGE = Path(__file__).with_name("play_page.html")
MAX_BODY = 16 * 1024
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0  # the slider's range; the API takes any τ in (0, 2]


class BadRequest(ValueError):
    """Input the API refuses: HTTP ``status`` with a one-line JSON error."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_temperature(value) -> float | None:
    """τ from the page: absent/null keeps the session's; else a number in (0, 2]."""
    if value is None:
        return None
    if not _is_number(value) or not 0.0 < float(value) <= MAX_TEMPERATURE:  # NaN fails the comparison
        raise BadRequest(f"temperature must be a number in (0, {MAX_TEMPERATURE:g}], got {value!r}")
    return float(value)


def parse_seed(value) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_SEED:
        raise BadRequest(f"seed must be an integer in [0, {MAX_SEED}), got {value!r}")
    return value


def parse_action(value, experiment: str) -> np.ndarray | None:
    """null (C acts), Doom -1 / 0 / 1 (left / stay / right), CarRacing [steer, gas, brake] within the game's box."""
    if value is None:
        return None
    if experiment == "doom":
        if _is_number(value) and float(value) in DOOM_ACTIONS.values():
            return np.array([float(value)], np.float32)
        raise BadRequest(f"action must be null, -1, 0 or 1, got {value!r}")
    if isinstance(value, list) and len(value) == 3 and all(_is_number(v) and math.isfinite(v) for v in value):
        a = np.asarray(value, np.float64)
        if np.all(a >= CARRACING_LOW) and np.all(a <= CARRACING_HIGH):  # steer, gas, brake as the game takes
            return a.astype(np.float32)
    raise BadRequest(f"action must be null or [steer -1..1, gas 0..1, brake 0..1], got {value!r}")


class PlayApp:
    """The models, the sessions and the API's logic, apart from HTTP (tests call it directly too)."""

    def __init__(self, models: Models):
        self.models = models
        self.sessions = Sessions()
        self.page = PAGE.read_bytes()

    def info(self) -> dict:
        cfg = self.models.cfg
        return {"experiment": cfg.experiment, "temperature": cfg.es.temperature, "max_steps": cfg.env.max_steps,
                "min_temperature": MIN_TEMPERATURE, "max_temperature": MAX_TEMPERATURE,
                "death": self.models.has_death, "controller": self.models.params is not None,
                "controller_file": str(self.models.controller_file) if self.models.controller_file else None,
                "run_dir": str(self.models.layout.root)}

    def _session(self, body: dict):
        session = self.sessions.get(body.get("session"))
        if session is None:
            raise BadRequest(f"unknown session {body.get('session')!r}: start one with POST /api/new",
                             HTTPStatus.NOT_FOUND)
        return body["session"], session

    @staticmethod
    def _state(key: str, session) -> dict:
        return {"session": key, **session.state()}

    def new(self, body: dict) -> dict:
        mode = body.get("mode", "dream")
        seed, temperature = parse_seed(body.get("seed")), parse_temperature(body.get("temperature"))
        if mode == "dream":
            session = DreamSession(self.models, temperature or self.models.cfg.es.temperature, seed)
        elif mode == "real":
            session = RealSession(self.models, seed)
        else:
            raise BadRequest(f"mode must be 'dream' or 'real', got {mode!r}")
        session.lock = threading.Lock()
        key = self.sessions.add(session)
        with session.lock:
            return self._state(key, session)

    def reset(self, body: dict) -> dict:
        key, session = self._session(body)
        seed = parse_seed(body.get("seed"))
        with session.lock:
            session.reset(seed)
            return self._state(key, session)

    def step(self, body: dict) -> dict:
        key, session = self._session(body)
        action = parse_action(body.get("action"), self.models.cfg.experiment)
        temperature = parse_temperature(body.get("temperature"))
        with session.lock:
            session.step(action, temperature)
            return self._state(key, session)

    def close(self) -> None:
        self.sessions.close()


class Handler(BaseHTTPRequestHandler):
    server_version = "WorldModelsPlay/1"
    app: PlayApp  # set on the subclass made by make_server

    def log_message(self, format, *args):  # noqa: A002 - one line per request would drown the console
        pass

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, obj: dict) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.app.page, "text/html; charset=utf-8")
        elif path == "/api/info":
            self._json(HTTPStatus.OK, self.app.info())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page {path}"})

    def do_POST(self):  # noqa: N802
        route = {"/api/new": self.app.new, "/api/reset": self.app.reset, "/api/step": self.app.step}
        path = self.path.split("?", 1)[0]
        try:
            if path not in route:
                raise BadRequest(f"no such endpoint {path}", HTTPStatus.NOT_FOUND)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise BadRequest("Content-Length must be an integer") from None
            if not 0 <= length <= MAX_BODY:
                raise BadRequest(f"request body must be at most {MAX_BODY} bytes")
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise BadRequest(f"request body is not JSON ({err})") from None
            if not isinstance(body, dict):
                raise BadRequest("request body must be a JSON object")
            self._json(HTTPStatus.OK, route[path](body))
        except BadRequest as err:
            self._json(err.status, {"error": str(err)})
        except Exception as err:  # the page shows it; the server goes on serving the other tabs
            traceback.print_exc()
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(err).__name__}: {err}"})


class PlayServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging browser connection never holds up the shutdown
    allow_reuse_address = True


def make_server(app: PlayApp, host: str, port: int) -> PlayServer:
    """Bind ``host:port`` (0: any free port; ``server.server_address`` says which) without serving yet."""
    handler = type("PlayHandler", (Handler,), {"app": app})
    return PlayServer((host, port), handler)
