"""An HTTP client for OpenAI-compatible chat completions: retries, backoff, Retry-After,
timeouts and a per-process concurrency limit, on httpx.

One ``httpx.Client`` per endpoint per process (``endpoint``), with a keep-alive pool as
large as ``agent.concurrency``: every episode in flight in the process, in whatever thread,
shares its connections, and a semaphore keeps the requests in flight to the endpoint at
``agent.concurrency``. A client may be given its own transport instead: a replay's has no
network at all (``harness.agents.llm.transport``). The API key travels only in the
``Authorization`` header; no message raised here ever contains it (errors name the URL and
the status, never the request's headers).
"""

from __future__ import annotations

import email.utils
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.core.errors import UserInputError

# Statuses worth another try: rate limits, overload and gateway trouble. Anything else
# (400 bad request, 401 bad key, 404 no such model) fails the same way every time.
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
KEEPALIVE_S = 30.0  # an idle pooled connection is closed after this (servers drop theirs too)


class EndpointError(UserInputError):
    """The endpoint cannot serve the run (unreachable, refused, no such model, kept failing).
    A problem of the user's environment: the CLI prints it in one line and exits 2."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None):
        super().__init__(message, hint)
        self.status = status

    def __reduce__(self):  # survives the trip back from a worker process intact
        return (type(self), (self.message, self.hint, self.status))


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    api_key: str | None = field(default=None, repr=False)  # never printed, never stored
    timeout_s: float = 120.0
    retries: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0
    concurrency: int = 4


@dataclass(frozen=True)
class Endpoint:
    """What all clients of one endpoint share in a process: the connections and the limit."""

    http: httpx.Client
    slots: threading.BoundedSemaphore


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(httpx.Client):
    """An ``httpx.Client`` that keeps no cookies. One client serves every episode of the
    process, so a cookie set in answer to one episode would travel with the next episode's
    requests; urllib kept none either. (It also spares parsing every answer for cookies.)"""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, value: Any) -> None:
        pass  # nothing is kept


_NO_COOKIES = _NoCookies()


def _new_endpoint(transport: httpx.BaseTransport | None, concurrency: int) -> Endpoint:
    """``transport`` None: real connections, a keep-alive pool of ``concurrency`` (the
    semaphore never lets more be in flight), and proxies from the environment as urllib
    honoured them. A transport given is used as it is, environment or not."""
    size = max(1, concurrency)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=KEEPALIVE_S)
    # follow_redirects: as urllib did (an http:// URL that redirects to https:// works)
    http = _CookielessClient(transport=transport, limits=limits, follow_redirects=True)
    return Endpoint(http, threading.BoundedSemaphore(size))


_ENDPOINTS: dict[tuple[str, int], Endpoint] = {}
_ENDPOINTS_LOCK = threading.Lock()


def endpoint(base_url: str, concurrency: int) -> Endpoint:
    """The process's client and limit for ``base_url`` (made on first use, thread-safe)."""
    key = (base_url.rstrip("/"), concurrency)
    with _ENDPOINTS_LOCK:
        found = _ENDPOINTS.get(key)
        if found is None:
            found = _ENDPOINTS[key] = _new_endpoint(None, concurrency)
        return found


def _forget_endpoints() -> None:
    """In a forked child: its parent's pooled sockets are not its own to use."""
    global _ENDPOINTS_LOCK
    _ENDPOINTS.clear()
    _ENDPOINTS_LOCK = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_endpoints)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header as seconds to wait: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class ChatClient:
    """``complete(body)`` posts to ``{base_url}/chat/completions``; ``models()`` lists
    ``{base_url}/models``. Safe to share between threads. ``transport``: None for the
    process's pooled connections to ``base_url``, else this client's own (a replay's: no
    network). ``sleep`` is injectable so tests can see the waits without waiting."""

    def __init__(self, settings: ClientSettings, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.sleep = sleep
        self.base = settings.base_url.rstrip("/")
        self._own = None if transport is None else _new_endpoint(transport, settings.concurrency)
        self._shared: tuple[int, Endpoint] | None = None  # (pid, the process's endpoint)
        self.waits: list[float] = []  # every backoff this client slept, in order

    @property
    def endpoint(self) -> Endpoint:
        if self._own is not None:
            return self._own
        shared = self._shared
        if shared is None or shared[0] != os.getpid():  # a client made before a fork gets the child's pool
            shared = self._shared = (os.getpid(), endpoint(self.base, self.settings.concurrency))
        return shared[1]

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._with_retries("POST", "/chat/completions", body)

    def models(self, timeout_s: float | None = None) -> list[str]:
        data = self._once("GET", "/models", None, timeout_s)
        return sorted(str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict))

    def _with_retries(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        s = self.settings
        last = ""
        for attempt in range(s.retries + 1):
            try:
                shared = self.endpoint
                with shared.slots:
                    return self._once(method, path, body, http=shared.http)
            except _Retryable as exc:
                last = exc.reason
                if attempt == s.retries:
                    break
                backoff = min(s.max_backoff_s, s.backoff_s * 2**attempt)
                wait = backoff if exc.wait is None else min(exc.wait, s.max_retry_after_s)
                self.waits.append(wait)
                self.sleep(wait)
        raise EndpointError(f"{self.base}{path} kept failing after {s.retries + 1} attempts: {last}",
                            hint="check the endpoint; the same command resumes the run")

    def _once(self, method: str, path: str, body: dict[str, Any] | None,
              timeout_s: float | None = None, http: httpx.Client | None = None) -> dict[str, Any]:
        url = f"{self.base}{path}"
        timeout = timeout_s or self.settings.timeout_s
        content = None if body is None else json.dumps(body).encode()  # the bytes urllib sent
        try:
            resp = (http or self.endpoint.http).request(method, url, content=content, headers=self._headers(),
                                                        timeout=timeout)
        except httpx.TimeoutException:
            raise _Retryable(f"no answer within {timeout:g} s") from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.ProxyError, httpx.InvalidURL,
                httpx.TooManyRedirects) as exc:
            raise EndpointError(f"cannot reach {self.base}: {exc}",
                                hint="check agent.base_url and that the server is running") from None
        except httpx.TransportError as exc:  # dropped, reset, half an answer: worth another try
            raise _Retryable(f"connection failed: {exc}") from None
        if not resp.is_success:
            raise self._http_error(resp, url)
        try:
            return json.loads(resp.content)
        except ValueError:
            raise _Retryable(f"{url} answered with something that is not JSON") from None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    def _http_error(self, resp: httpx.Response, url: str) -> Exception:
        code, detail = resp.status_code, _error_detail(resp)
        if code in RETRY_STATUS:
            return _Retryable(f"HTTP {code} {detail}".strip(), retry_after_seconds(resp.headers.get("Retry-After")))
        if code in (401, 403):
            return EndpointError(f"{url} refused the API key (HTTP {code})",
                                 hint="check the variable named by agent.api_key_env", status=code)
        if code == 404:
            return EndpointError(f"{url} answered 404 {detail}".strip(),
                                 hint="check agent.base_url (usually ends in /v1) and agent.model", status=404)
        return EndpointError(f"{url} answered HTTP {code} {detail}".strip(), status=code)


def _error_detail(resp: httpx.Response) -> str:
    """The server's own error message, short (servers put it under error.message)."""
    try:
        payload = json.loads(resp.content or b"{}")
    except ValueError:
        return ""
    err = payload.get("error") if isinstance(payload, dict) else None
    message = err.get("message") if isinstance(err, dict) else err if isinstance(err, str) else ""
    return f"({str(message)[:200]})" if message else ""
