"""The simulator's HTTP layer: Letta's /v1 routes over a World, plus faults, auth and a request log."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .faults import ERROR_BODIES, Decision, Faults
from .params import (
    ApiError,
    QueryReader,
    check_agent_id,
    check_limit,
    check_step_id,
    detail,
    feedback_body,
    page_params,
    parse_date,
)
from .world import LIST_MODES, TRACE_BACKENDS, BadRequest, NotFound, World

IDENTITY_NAME = "letta-steps-dashboard simulator"
STEP = r"(?P<step_id>[^/]+)"
RUN = r"(?P<run_id>[^/]+)"
AGENT = r"(?P<agent_id>[^/]+)"
ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(f"^{pattern}$"), name)
    for method, pattern, name in (
        ("GET", "/v1/steps/", "list_steps"),
        ("GET", f"/v1/steps/{STEP}", "retrieve_step"),
        ("GET", f"/v1/steps/{STEP}/metrics", "step_metrics"),
        ("GET", f"/v1/steps/{STEP}/trace", "step_trace"),
        ("GET", f"/v1/telemetry/{STEP}", "telemetry"),
        ("GET", f"/v1/steps/{STEP}/messages", "step_messages"),
        ("PATCH", f"/v1/steps/{STEP}/feedback", "feedback"),
        ("GET", "/v1/agents/", "list_agents"),
        ("GET", f"/v1/agents/{AGENT}", "retrieve_agent"),
        ("GET", "/v1/runs/", "list_runs"),
        ("GET", f"/v1/runs/{RUN}", "retrieve_run"),
        ("GET", f"/v1/runs/{RUN}/steps", "run_steps"),
        ("POST", "/_simulator/tick", "control_tick"),
        ("GET", "/_simulator/state", "control_state"),
        ("GET", "/_simulator/identity", "control_identity"),
        ("GET", "/_simulator/tally", "control_tally"),
        ("DELETE", "/_simulator/tally", "control_tally_clear"),
        ("POST", "/_simulator/faults", "control_faults"),
        ("POST", "/_simulator/world", "control_world"),
    )
]


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    params: dict[str, list[str]]
    status: int | None = None  # None: the connection was dropped (down, truncated)
    body: bytes = b""  # as sent: tests check what a PATCH carried, key by key

    def json(self) -> object:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int
    body: object = None
    headers: dict | None = None
    raw: bytes | None = None  # pre-encoded body (fault bodies, redirects)
    content_type: str = "application/json"


def _json_bytes(value: object) -> bytes:
    # FastAPI's JSONResponse: compact separators, non-ASCII kept as UTF-8.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class Api:
    """Route handlers; each takes the match groups, the parsed query and the raw body, and returns a Reply."""

    def __init__(self, simulator: SimulatorServer):
        self.sim = simulator
        self.world = simulator.world

    def list_steps(self, query: QueryReader, body: bytes) -> Reply:
        page = page_params(query, 50, "desc")
        filters = {
            "model": query.string("model"),
            "agent_id": query.string("agent_id"),
            "trace_ids": query.strings("trace_ids"),
            "feedback": query.choice("feedback", ("positive", "negative"), None, kind="enum"),
            "has_feedback": query.boolean("has_feedback"),
            "project_id": query.string("project_id"),
        }
        query.strings("tags")  # accepted and silently ignored, like the real router (§1.1)
        start, end = query.string("start_date"), query.string("end_date")
        query.raise_if_invalid()
        check_agent_id(filters["agent_id"])
        if self.world.list_mode == "unpatched":
            # An unmodified 0.16.8 router passes order as a bool into an @enforce_types str parameter (§0).
            flag = page["order"] == "asc"
            raise detail(
                400,
                f"Argument order does not match type typing.Optional[str]; is {flag} of type <class 'bool'>",
            )
        start_date, end_date = parse_date(start), parse_date(end)
        if start_date and end_date and start_date > end_date:
            raise detail(400, "start_date must be earlier than end_date")
        # Unknown cursors fail (404) before the query runs; a negative LIMIT fails inside it (500).
        for cursor in (page["after"], page["before"]):
            if cursor is not None and cursor not in self.world.steps:
                raise detail(404, f"No Step found with id {cursor}")
        check_limit(page["limit"])
        return Reply(200, self.world.list_steps(**page, **filters, start_date=start_date, end_date=end_date))

    def retrieve_step(self, query, body, step_id: str) -> Reply:
        check_step_id(step_id)
        return Reply(200, self.world.get_step(step_id))

    def step_metrics(self, query, body, step_id: str) -> Reply:
        check_step_id(step_id)
        return Reply(200, self.world.get_metrics(step_id))

    def step_trace(self, query, body, step_id: str) -> Reply:
        check_step_id(step_id)
        return Reply(200, self.world.get_trace(step_id))  # never an error: 200 null instead (§1.4)

    def telemetry(self, query, body, step_id: str) -> Reply:
        return Reply(200, self.world.get_trace(step_id))  # deprecated alias without id validation

    def step_messages(self, query: QueryReader, body, step_id: str) -> Reply:
        check_step_id(step_id)
        page = page_params(query, 100, "asc")
        query.raise_if_invalid()
        check_limit(page["limit"])
        return Reply(200, self.world.list_messages(step_id, **page))

    def feedback(self, query, body: bytes, step_id: str) -> Reply:
        check_step_id(step_id)
        feedback, tags = feedback_body(body)
        return Reply(200, self.world.set_feedback(step_id, feedback, tags))

    def list_runs(self, query: QueryReader, body) -> Reply:
        page = page_params(query, 100, "desc")
        agent_id = query.string("agent_id")
        query.raise_if_invalid()
        check_limit(page["limit"])
        return Reply(200, self.world.list_runs(**page, agent_id=agent_id))

    def list_agents(self, query: QueryReader, body) -> Reply:
        page = page_params(query, 50, "desc")
        query.raise_if_invalid()
        check_limit(page["limit"])
        return Reply(
            200, self.world.list_agents(order=page["order"], limit=page["limit"], after=page["after"])
        )

    def retrieve_agent(self, query, body, agent_id: str) -> Reply:
        check_agent_id(agent_id)
        return Reply(200, self.world.get_agent(agent_id))

    def retrieve_run(self, query, body, run_id: str) -> Reply:
        return Reply(200, self.world.get_run(run_id))

    def run_steps(self, query: QueryReader, body, run_id: str) -> Reply:
        page = page_params(query, 100, "desc")
        query.raise_if_invalid()
        check_limit(page["limit"])
        return Reply(200, self.world.list_run_steps(run_id, **page))

    def control_tick(self, query, body: bytes) -> Reply:
        count = int((json.loads(body) if body else {}).get("count", 1))
        for _ in range(count):
            self.world.tick()
        return self.control_state(query, body)

    def control_state(self, query, body) -> Reply:
        state = self.world.state() | {"faults": self.sim.faults.as_dict(), "requests": self.sim.request_count}
        return Reply(200, state)

    def control_tally(self, query: QueryReader, body) -> Reply:
        # ?repeated=<route>: also the subjects of that route asked for more than once
        return Reply(200, self.sim.tally(repeated_of=query.string("repeated")))

    def control_tally_clear(self, query, body) -> Reply:
        self.sim.clear_requests()
        return Reply(200, self.sim.tally())

    def control_identity(self, query, body) -> Reply:
        # Lets a launcher tell its own simulator from a real Letta (or another demo's
        # simulator) that happens to answer on the same port.
        return Reply(200, {"simulator": IDENTITY_NAME, "nonce": self.sim.nonce})

    def control_faults(self, query, body: bytes) -> Reply:
        values = json.loads(body) if body else {}
        if values.pop("clear", False):
            self.sim.faults.clear()
        try:
            self.sim.faults.update(values)
        except (ValueError, TypeError) as exc:
            raise detail(400, str(exc)) from None
        return Reply(200, self.sim.faults.as_dict())

    def control_world(self, query, body: bytes) -> Reply:
        values = json.loads(body) if body else {}
        with self.world.lock:
            if values.get("list_mode") in LIST_MODES:
                self.world.list_mode = values["list_mode"]
            if values.get("trace_backend") in TRACE_BACKENDS:
                self.world.trace_backend = values["trace_backend"]
            if isinstance(values.get("metrics_start_missing_rate"), int | float):
                self.world.metrics_start_missing_rate = float(values["metrics_start_missing_rate"])
        return self.control_state(query, body)


def route(method: str, path: str) -> tuple[str | None, dict, bool]:
    """(handler name, path params, path exists with another method)."""
    exists = False
    for route_method, pattern, name in ROUTES:
        match = pattern.match(path)
        if match:
            if route_method == method:
                return name, match.groupdict(), True
            exists = True
    return None, {}, exists


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid the 40 ms delayed-ACK stall
    timeout = 5  # uvicorn's keep-alive timeout: idle connections get closed under a client's feet
    server: _HttpServer

    def log_message(self, format: str, *args) -> None:
        pass  # the request log on SimulatorServer replaces stderr noise

    def do_GET(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        sim = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = re.sub(r"^/latest/", "/v1/", url.path)  # the same routes are mounted under /latest (§1)
        control = path.startswith("/_simulator/")
        record = RequestRecord(
            self.command, path, url.query, parse_qs(url.query, keep_blank_values=True), body=body
        )
        truncate = False
        if not control:
            sim.log_request(record)
            faults = sim.faults
            if faults.down:
                self.close_connection = True
                return
            if faults.latency_ms and faults.applies_to(self.command):
                sim.stopping.wait(faults.latency_ms / 1000)
            decision = faults.decide() if faults.applies_to(self.command) else Decision()
            if decision.hang:
                sim.stopping.wait(faults.hang_seconds)
            if decision.status is not None:
                content_type, raw = ERROR_BODIES.get(decision.status, ERROR_BODIES[500])
                headers = {"Retry-After": "1"} if decision.status == 409 else {}
                self._send(
                    record, Reply(decision.status, raw=raw, headers=headers, content_type=content_type)
                )
                return
            truncate = decision.truncate
        self._send(record, self._dispatch(sim, path, url.query, record, body), truncate)

    def _dispatch(
        self, sim: SimulatorServer, path: str, query: str, record: RequestRecord, body: bytes
    ) -> Reply:
        if sim.api_key and not path.startswith("/_simulator/") and not self._authorized(sim.api_key):
            return Reply(401, {"detail": "Unauthorized"})
        name, groups, exists = route(self.command, path)
        if name is None:
            alternative = path[:-1] if path.endswith("/") else path + "/"
            if route(self.command, alternative)[0] is not None:
                # Starlette's redirect_slashes: 307 to the absolute URL, query kept (§1.1).
                location = f"http://{self.headers.get('Host', sim.host)}{alternative}" + (
                    f"?{query}" if query else ""
                )
                return Reply(307, raw=b"", headers={"Location": location})
            if exists:
                return Reply(405, {"detail": "Method Not Allowed"})
            return Reply(404, {"detail": "Not Found"})
        if not path.startswith("/_simulator/"):
            sim.count(name, groups, record)
        try:
            return getattr(sim.api, name)(QueryReader(record.params), body, **groups)
        except ApiError as exc:
            return Reply(exc.status, exc.body, exc.headers)
        except NotFound as exc:
            return Reply(404, {"detail": str(exc)})
        except BadRequest as exc:
            return Reply(400, {"detail": str(exc)})

    def _authorized(self, key: str) -> bool:
        # check_password middleware: Bearer token or X-BARE-PASSWORD (§3).
        return self.headers.get("Authorization") == f"Bearer {key}" or (
            self.headers.get("X-BARE-PASSWORD") == f"password {key}"
        )

    def _send(self, record: RequestRecord, reply: Reply, truncate: bool = False) -> None:
        payload = reply.raw if reply.raw is not None else _json_bytes(reply.body)
        self.send_response(reply.status)
        if reply.status != 307:
            self.send_header("Content-Type", reply.content_type)
        for name, value in (reply.headers or {}).items():
            self.send_header(name, value)
        if truncate:
            # Promise more than is sent, then hang up: the client sees an incomplete body.
            self.send_header("Content-Length", str(len(payload) + max(16, len(payload) // 2)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        record.status = reply.status


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: SimulatorServer

    def handle_error(self, request, client_address) -> None:
        # Clients that time out or hang up (hang and truncate faults do this on purpose) are not server bugs.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class SimulatorServer:
    """A running simulator; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    def __init__(
        self,
        world: World | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        request_log_size: int = 10_000,
        nonce: str = "",
    ):
        self.world = world if world is not None else World()
        self.faults = faults if faults is not None else Faults()
        self.api_key = api_key
        self.nonce = nonce  # answered on /_simulator/identity, see `manage.py serve`
        self.host = host
        self.api = Api(self)
        self.stopping = threading.Event()
        self._requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self._request_count = 0
        # (route, the step, run or agent id, or a list's `after` cursor) -> requests: how often
        # each thing was asked for, whatever the request log's bound (benchmarks ask for it)
        self._tally: Counter[tuple[str, str]] = Counter()
        self._log_lock = threading.Lock()
        self._http = _HttpServer((host, port), _Handler)
        self._http.simulator = self
        self.port = self._http.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="letta-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.stopping.set()  # wakes hanging and slow requests
        if self._thread:
            self._http.shutdown()
        self._http.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log_request(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._requests.append(record)
            self._request_count += 1

    def count(self, name: str, groups: dict, record: RequestRecord) -> None:
        """One more request of route `name` for its subject: the id in its path or, for a list,
        the page (`after` cursor, order and filter)."""
        subject = (
            "/".join(groups.values())
            + "?"
            + "&".join(
                f"{key}={','.join(record.params.get(key, []))}" for key in ("after", "order", "has_feedback")
            )
        )
        with self._log_lock:
            self._tally[(name, subject)] += 1

    def tally(self, repeated_of: str | None = None) -> dict[str, dict]:
        """Per route: requests, distinct subjects (an id, or a list page's cursor and order), and
        subjects asked for more than once; e.g. "was every step's trace fetched exactly once?".
        With `repeated_of` (a route), that route's repeated subjects are listed too."""
        with self._log_lock:
            counts = list(self._tally.items())
        routes: dict[str, dict] = {}
        for (name, subject), n in counts:
            entry = routes.setdefault(name, {"requests": 0, "distinct": 0, "repeated": 0})
            entry["requests"] += n
            entry["distinct"] += 1
            entry["repeated"] += n > 1
            if n > 1 and name == repeated_of:
                entry.setdefault("repeated_subjects", []).append(subject)
        return routes

    @property
    def requests(self) -> list[RequestRecord]:
        """API requests (control endpoints excluded), oldest first; bounded to the last ``request_log_size``."""
        with self._log_lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        return self._request_count

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()
            self._request_count = 0
            self._tally.clear()


def start_simulator(
    world: World | None = None,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    nonce: str = "",
) -> SimulatorServer:
    """Serve a simulator from a daemon thread; port 0 picks a free port."""
    return SimulatorServer(world, faults, host, port, api_key, nonce=nonce).start()
