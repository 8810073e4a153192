"""An HTTP client for OpenAI-compatible chat completions: retries, backoff, Retry-After,
timeouts and a per-process concurrency limit.

Standard library only (``urllib``): the project does not depend on an HTTP library. The
API key travels only in the ``Authorization`` header; no message raised here ever
contains it (errors name the URL and the status, never the request's headers).
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import UserInputError

# Statuses worth another try: rate limits, overload and gateway trouble. Anything else
# (400 bad request, 401 bad key, 404 no such model) fails the same way every time.
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


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


_SEMAPHORES: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_SEMAPHORES_LOCK = threading.Lock()


def _semaphore(base_url: str, limit: int) -> threading.BoundedSemaphore:
    """One limit per endpoint per process, shared by every client built for it."""
    with _SEMAPHORES_LOCK:
        return _SEMAPHORES.setdefault((base_url, limit), threading.BoundedSemaphore(max(1, limit)))


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
    ``{base_url}/models``. ``sleep`` is injectable so tests can see the waits without waiting."""

    def __init__(self, settings: ClientSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.base = settings.base_url.rstrip("/")
        self.waits: list[float] = []  # every backoff this client slept, in order

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
                with _semaphore(self.base, s.concurrency):
                    return self._once(method, path, body)
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
              timeout_s: float | None = None) -> dict[str, Any]:
        url = f"{self.base}{path}"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s or self.settings.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, url) from None
        except TimeoutError:
            raise _Retryable(f"no answer within {timeout_s or self.settings.timeout_s:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retryable(f"no answer within {timeout_s or self.settings.timeout_s:g} s") from None
            raise EndpointError(f"cannot reach {self.base}: {exc.reason}",
                                hint="check agent.base_url and that the server is running") from None
        except (ConnectionError, OSError) as exc:
            raise _Retryable(f"connection failed: {exc}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Retryable(f"{url} answered with something that is not JSON") from None

    def _http_error(self, exc: urllib.error.HTTPError, url: str) -> Exception:
        detail = _error_detail(exc)
        if exc.code in RETRY_STATUS:
            return _Retryable(f"HTTP {exc.code} {detail}".strip(), retry_after_seconds(exc.headers.get("Retry-After")))
        if exc.code in (401, 403):
            return EndpointError(f"{url} refused the API key (HTTP {exc.code})",
                                 hint="check the variable named by agent.api_key_env", status=exc.code)
        if exc.code == 404:
            return EndpointError(f"{url} answered 404 {detail}".strip(),
                                 hint="check agent.base_url (usually ends in /v1) and agent.model", status=404)
        return EndpointError(f"{url} answered HTTP {exc.code} {detail}".strip(), status=exc.code)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own error message, short (servers put it under error.message)."""
    try:
        payload = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    err = payload.get("error") if isinstance(payload, dict) else None
    message = err.get("message") if isinstance(err, dict) else err if isinstance(err, str) else ""
    return f"({str(message)[:200]})" if message else ""
