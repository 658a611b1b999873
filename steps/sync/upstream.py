"""The only code that speaks HTTP to Letta.

httpx rather than the official `letta-client` SDK: the SDK wraps bare arrays in page objects,
renames fields (`model_handle` -> `api_model_handle`), pages messages until an empty page but
hides the requests it makes, and retries on its own schedule. The mirror needs the raw
payloads, exact control of retries and every status code Letta sends (docs/letta-api.md §6-7).

Responses are validated into plain payload dicts (kept whole by the mirror) or None; anything
else raises an UpstreamError subclass whose message a person can act on.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

Payload = dict[str, Any]

RETRYABLE_STATUSES = {409, 429, 500, 502, 503, 504}
UNPATCHED_LIST_DETAIL = "Argument order does not match type"


class UpstreamError(Exception):
    """Letta answered something the caller cannot use; `str()` is meant for people."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "", path: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.path = path


class UpstreamUnavailable(UpstreamError):
    """Transport failure, timeout or 409/429/5xx that outlasted the retries."""


class UpstreamAuthError(UpstreamError):
    pass


class NotOurSimulator(UpstreamUnavailable):
    """The demo's upstream answered, but not as the simulator `manage.py serve` started.

    Unavailable rather than final: votes wait in the outbox until the right simulator is back.
    """


class UpstreamNotFound(UpstreamError):
    pass


class UpstreamBadRequest(UpstreamError):
    pass


class StepListUnavailable(UpstreamBadRequest):
    """The 400 every unmodified self-hosted 0.12-0.16.8 server gives for GET /v1/steps/ (§0)."""


class UpstreamValidationError(UpstreamError):
    """422. Letta's `detail` is the repr() of the error list, a string (§6)."""


class UpstreamProtocolError(UpstreamError):
    """A 2xx whose body is not what the API promises."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500].strip()
    if isinstance(body, dict):
        if "detail" in body:
            detail = body["detail"]
            return detail if isinstance(detail, str) else repr(detail)
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)
    return str(body)[:500]


def _retry_after_seconds(response: httpx.Response) -> float | None:
    if ms := response.headers.get("retry-after-ms"):
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    if value := response.headers.get("retry-after"):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _error_for(response: httpx.Response, path: str) -> UpstreamError:
    status, detail = response.status_code, _detail(response)
    kwargs = {"status": status, "detail": detail, "path": path}
    if status in (401, 403):
        return UpstreamAuthError(
            f"Letta refused the credentials ({status} {detail or 'Unauthorized'}): check LETTA_API_KEY.",
            **kwargs,
        )
    if status == 404:
        return UpstreamNotFound(f"Letta has no {path} (404: {detail})", **kwargs)
    if status == 400 and detail.startswith(UNPATCHED_LIST_DETAIL):
        return StepListUnavailable(f"This Letta server cannot list steps (400: {detail})", **kwargs)
    if status == 400:
        return UpstreamBadRequest(f"Letta rejected {path} (400: {detail})", **kwargs)
    if status == 422:
        return UpstreamValidationError(f"Letta rejected the request to {path} (422: {detail})", **kwargs)
    if status in RETRYABLE_STATUSES:
        return UpstreamUnavailable(f"Letta kept failing on {path} ({status}: {detail})", **kwargs)
    return UpstreamError(f"Letta answered {status} on {path}: {detail}", **kwargs)


def _require_object(body: Any, path: str) -> Payload:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise UpstreamProtocolError(
            f"Expected an object with an id from {path}, got {type(body).__name__}", path=path
        )
    return body


def _require_list(body: Any, path: str) -> list[Payload]:
    if not isinstance(body, list):
        raise UpstreamProtocolError(
            f"Expected a JSON array from {path}, got {type(body).__name__}", path=path
        )
    return [_require_object(item, path) for item in body]


def _is_paging_orphan(last_group_types: set[str], first_of_next: Payload) -> bool:
    """The send_message return Letta hides in the page of its call, re-surfacing on the next.

    Converted with use_assistant_message, a send_message call becomes an assistant_message
    and its tool return is dropped, but only within one page (§1.6 point 4). The cursor is
    the last *item*, i.e. the call, so the next page starts with the hidden return. A
    one-page read of the step never shows it; neither does the mirror.
    """
    return (
        "assistant_message" in last_group_types
        and first_of_next.get("message_type") == "tool_return_message"
        and first_of_next.get("name") == "send_message"
    )


class LettaClient:
    """A Letta REST client with explicit timeouts and retries for transient failures only."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str = "",
        project: str = "",
        timeout: float = 30.0,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        simulator_nonce: str = "",
    ):
        self.base_url = base_url.rstrip("/")
        # Set in demo mode: before its first request the client checks that the server is
        # the simulator started with this nonce, never a real Letta on the same port.
        self.simulator_nonce = simulator_nonce
        self._identity_checked = not simulator_nonce
        self.max_retries = max_retries
        self.requests_made = 0
        self._count_lock = threading.Lock()  # the refresh sends requests from a few threads
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": "letta-steps-dashboard"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if project:
            headers["X-Project"] = project
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            # The only redirect Letta sends is /v1/steps -> /v1/steps/; we call the slash
            # form, and following a redirect behind a TLS proxy can downgrade the scheme.
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, *, timeout: float | None = None, max_retries: int | None = None) -> LettaClient:
        if not settings.LETTA_BASE_URL:
            # No guessing a default port: Letta's own default (8283) may be a real server.
            raise ImproperlyConfigured(
                "LETTA_BASE_URL is not set: point it at your Letta server, or use `make run` "
                "(manage.py serve), which starts its own simulator and tells its processes where it is."
            )
        return cls(
            settings.LETTA_BASE_URL,
            api_key=settings.LETTA_API_KEY,
            project=settings.LETTA_PROJECT,
            timeout=settings.LETTA_TIMEOUT_SECONDS if timeout is None else timeout,
            max_retries=settings.LETTA_MAX_RETRIES if max_retries is None else max_retries,
            simulator_nonce=settings.LETTA_SIMULATOR_NONCE,
        )

    def close(self) -> None:
        self._http.close()

    def recheck_identity(self) -> None:
        """Ask the demo's simulator for its identity again before the next request, as a new
        client would (a client kept across tasks checks once per task, not once per process)."""
        self._identity_checked = not self.simulator_nonce

    def __enter__(self) -> LettaClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------------

    def simulator_identity(self) -> str:
        """The nonce the server answers on the simulator's identity endpoint ("" if none)."""
        try:
            response = self._http.get("/_simulator/identity")
            body = response.json() if response.status_code == 200 else {}
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"Could not reach the demo's Letta simulator at {self.base_url} ({type(exc).__name__})"
            ) from exc
        except ValueError:
            body = {}
        nonce = body.get("nonce") if isinstance(body, dict) else None
        return nonce if isinstance(nonce, str) else ""

    def _check_identity(self) -> None:
        if self._identity_checked:
            return
        if not secrets.compare_digest(self.simulator_identity(), self.simulator_nonce):
            raise NotOurSimulator(
                f"{self.base_url} is not the Letta simulator this demo started (it did not answer with "
                "this start's identity), so nothing is read from or written to it. Restart `make run`."
            )
        self._identity_checked = True

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        hinted = _retry_after_seconds(response) if response is not None else None
        if hinted is not None and 0 <= hinted <= 60:
            return hinted
        return min(8.0, 0.5 * 2**attempt) * random.uniform(0.75, 1.0)

    def _request(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> Any:
        self._check_identity()
        params = {k: v for k, v in (params or {}).items() if v is not None}
        last_error: UpstreamError | None = None
        response: httpx.Response | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self._backoff(attempt - 1, response))
            response = None
            with self._count_lock:
                self.requests_made += 1
            try:
                response = self._http.request(method, path, params=params, json=json)
                if response.status_code in RETRYABLE_STATUSES:
                    last_error = _error_for(response, path)
                    log.warning("Letta %s %s answered %s, retrying", method, path, response.status_code)
                    continue
                if response.is_error or response.is_redirect:
                    raise _error_for(response, path)
                return response.json()
            except httpx.TransportError as exc:
                # Includes timeouts, refused connections and bodies cut short mid-transfer.
                last_error = UpstreamUnavailable(
                    f"Could not reach Letta at {self.base_url} ({type(exc).__name__}: {exc})", path=path
                )
                log.warning("Letta %s %s failed: %s, retrying", method, path, type(exc).__name__)
            except ValueError:
                last_error = UpstreamProtocolError(
                    f"Letta sent a body that is not JSON for {path}", path=path
                )
                log.warning("Letta %s %s sent a non-JSON body, retrying", method, path)
        assert last_error is not None
        raise last_error

    # --- endpoints (docs/letta-api.md §1) -------------------------------------------------------

    def list_steps(
        self, *, after: str | None = None, limit: int = 100, order: str = "asc", **filters
    ) -> list[Payload]:
        params = {"after": after, "limit": limit, "order": order, **filters}
        return _require_list(self._request("GET", "/v1/steps/", params=params), "/v1/steps/")

    def list_runs(self, *, after: str | None = None, limit: int = 100, order: str = "asc") -> list[Payload]:
        params = {"after": after, "limit": limit, "order": order}
        return _require_list(self._request("GET", "/v1/runs/", params=params), "/v1/runs/")

    def get_run(self, run_id: str) -> Payload:
        path = f"/v1/runs/{run_id}"
        return _require_object(self._request("GET", path), path)

    def list_run_steps(
        self, run_id: str, *, after: str | None = None, limit: int = 100, order: str = "asc"
    ) -> list[Payload]:
        path = f"/v1/runs/{run_id}/steps"
        return _require_list(
            self._request("GET", path, params={"after": after, "limit": limit, "order": order}), path
        )

    def get_step(self, step_id: str) -> Payload:
        path = f"/v1/steps/{step_id}"
        return _require_object(self._request("GET", path), path)

    def get_metrics(self, step_id: str) -> Payload | None:
        """None when Letta has no metrics row for the step (legacy agent loops answer 404)."""
        path = f"/v1/steps/{step_id}/metrics"
        try:
            return _require_object(self._request("GET", path), path)
        except UpstreamNotFound:
            return None

    def get_trace(self, step_id: str) -> Payload | None:
        """None for Letta's `200 null`: tracing off, not written yet, or several rows (§1.4)."""
        path = f"/v1/steps/{step_id}/trace"
        body = self._request("GET", path)
        if body is None:
            return None
        if not isinstance(body, dict):
            raise UpstreamProtocolError(f"Expected a trace object or null from {path}", path=path)
        return body

    def iter_messages(self, step_id: str, *, page_size: int = 100) -> Iterator[Payload]:
        """Every item of a step, in Letta's order. `limit` counts internal messages, not
        items, so a short page proves nothing: page until an empty one (§1.6)."""
        path = f"/v1/steps/{step_id}/messages"
        after = None
        last_group_types: set[str] = set()
        while True:
            page = _require_list(
                self._request("GET", path, params={"after": after, "limit": page_size, "order": "asc"}), path
            )
            if not page:
                return
            yield from page[1:] if _is_paging_orphan(last_group_types, page[0]) else page
            if page[-1]["id"] == after:  # a server that ignores the cursor would loop forever
                raise UpstreamProtocolError(f"Letta repeated the same page for {path}", path=path)
            after = page[-1]["id"]
            last_group_types = {str(item.get("message_type")) for item in page if item["id"] == after}

    def patch_feedback(self, step_id: str, *, feedback: str | None, tags: list[str] | None) -> Payload:
        """Letta overwrites feedback on every PATCH, so it is always sent; it replaces tags only
        with a non-empty list (§1.5), so none or an empty list sends no `tags` key at all."""
        path = f"/v1/steps/{step_id}/feedback"
        body = {"feedback": feedback} | ({"tags": tags} if tags else {})
        body = self._request("PATCH", path, json=body)
        return _require_object(body, path)

    def list_agents(self, *, after: str | None = None, limit: int = 100) -> list[Payload]:
        """GET /v1/agents/, oldest first. Agents carry their memory blocks and tool schemas;
        we keep only what names an agent, but the payload stays whole like every mirror row."""
        params = {"after": after, "limit": limit, "order": "asc"}
        return _require_list(self._request("GET", "/v1/agents/", params=params), "/v1/agents/")

    def get_agent(self, agent_id: str) -> Payload:
        path = f"/v1/agents/{agent_id}"
        return _require_object(self._request("GET", path), path)


# process_client's clients: (timeout, max_retries) -> (pid, settings they were made from, client)
_kept_clients: dict[tuple, tuple[int, tuple, LettaClient]] = {}
_kept_clients_lock = threading.Lock()


def process_client(*, timeout: float | None = None, max_retries: int | None = None) -> LettaClient:
    """LettaClient.from_settings, made once per process and kept for the next caller: building
    one costs 20-45 ms of CPU (httpx loads a TLS context even for http://), which a worker paid on
    every short task. Made lazily and tagged with its pid, so a forked worker never uses a
    client (and sockets) inherited from its parent but makes its own; made again when the
    settings it came from change (tests do that). Callers never close it. Thread-safe, as
    httpx.Client is."""
    made_from = (
        settings.LETTA_BASE_URL,
        settings.LETTA_API_KEY,
        settings.LETTA_PROJECT,
        settings.LETTA_SIMULATOR_NONCE,
        settings.LETTA_TIMEOUT_SECONDS,
        settings.LETTA_MAX_RETRIES,
    )
    pid, key = os.getpid(), (timeout, max_retries)
    with _kept_clients_lock:
        kept = _kept_clients.get(key)
        if kept is not None and kept[:2] == (pid, made_from):
            return kept[2]
        client = LettaClient.from_settings(timeout=timeout, max_retries=max_retries)
        _kept_clients[key] = (pid, made_from, client)
    if kept is not None and kept[0] == pid:
        kept[2].close()  # this process's, for settings that changed; a parent's is left alone
    return client
