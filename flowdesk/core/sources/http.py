"""A polite JSON-over-HTTP client: rate limited, bounded retries, token never in a message.

Built on the standard library (``urllib``) so it honours the system's proxy settings and needs no
extra dependency. One :class:`ApiClient` may be shared by a few worker threads: the rate limiter,
the counters and the cancellation flag are thread-safe.

Faults and what the client does with them:

* 401 / 403 → :class:`AuthError` at once (never retried).
* 404 → :class:`NotFoundError`; other 4xx → :class:`HttpError` (not retried).
* 429 → wait for ``Retry-After`` (seconds or an HTTP date, capped), then retry.
* 5xx, timeouts, connection resets, truncated bodies → retry with exponential backoff and jitter.
* Retries are bounded (``max_retries``); then :class:`TransportError`.
* A 200 whose body is not JSON → :class:`BadResponseError` (not retried: the caller decides).

Redirects are not followed: a redirect could carry the ``Authorization`` header to another host.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flowdesk.core.errors import Canceled

USER_AGENT = "Flowdesk (WhatsApp flow reports)"


class HttpError(Exception):
    """A request that failed for good; ``status`` is the HTTP status or None."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(HttpError):
    """The server refused the credentials (401/403)."""


class NotFoundError(HttpError):
    pass


class BadResponseError(HttpError):
    """The server answered 200 with a body that is not the expected JSON."""


class TransportError(HttpError):
    """Retries exhausted on timeouts, resets, 429 or 5xx."""


@dataclass(slots=True)
class Politeness:
    """How hard the client may press on the server. Tests scale the delays down."""

    rate: float = 5.0  # requests per second, over all threads
    concurrency: int = 3  # parallel requests at most
    timeout: float = 30.0  # seconds per request (connect and each read)
    max_retries: int = 5  # extra attempts after the first
    backoff_base: float = 1.0  # first backoff, doubled at each retry
    backoff_max: float = 60.0
    retry_after_max: float = 300.0  # longest Retry-After honoured; longer waits are capped


class RateLimiter:
    """Spaces request starts ``1/rate`` seconds apart across threads."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 0.0 if rate <= 0 else 1.0 / rate
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self) -> float:
        """Claim the next slot; returns how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
            return start - now


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta seconds (integer, tolerated decimal) or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None  # urllib then raises the 3xx as an HTTPError


_RETRYABLE_STATUS = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})
_NETWORK_ERRORS = (
    TimeoutError,
    socket.timeout,
    ConnectionError,
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
)


class ApiClient:
    """GET JSON from ``base_url`` + path with ``Authorization: <scheme> <token>`` (``Token`` by
    default, as ActiveCampaign and RapidPro want; Twilio wants ``Basic``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        politeness: Politeness | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
        rng: random.Random | None = None,
        auth_scheme: str = "Token",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._auth_scheme = auth_scheme
        self.politeness = politeness or Politeness()
        self.is_cancelled = is_cancelled
        self._sleep_impl = sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(self.politeness.rate)
        self._lock = threading.Lock()
        self._stats = {"requests": 0, "retries": 0}
        self._opener = urllib.request.build_opener(_NoRedirect())

    # -- counters ------------------------------------------------------------------------------

    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[key] = self._stats.get(key, 0) + amount

    def take_stats(self) -> dict[str, int]:
        """Counters since the previous call (so each batch reports its own share)."""
        with self._lock:
            stats = dict(self._stats)
            self._stats = dict.fromkeys(self._stats, 0)
        return stats

    # -- waiting -------------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep_impl is not None:
            self._sleep_impl(seconds)
            if self.is_cancelled():
                raise Canceled()
            return
        deadline = time.monotonic() + seconds
        while True:
            if self.is_cancelled():
                raise Canceled()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))

    def _backoff(self, attempt: int) -> float:
        p = self.politeness
        ceiling = min(p.backoff_max, p.backoff_base * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)  # jitter spreads clients apart

    # -- requests ------------------------------------------------------------------------------

    def url_for(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = self.base_url + "/" + path.lstrip("/")
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            url += "?" + urllib.parse.urlencode(query)
        return url

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode JSON, retrying transient faults; raises an :class:`HttpError`."""
        url = self.url_for(path, params)
        shown = path + ("?" + urllib.parse.urlencode(params) if params else "")
        attempt = 0
        while True:
            if self.is_cancelled():
                raise Canceled()
            self._sleep(self._limiter.reserve())
            self._count("requests")
            delay: float | None = None
            problem = ""
            status: int | None = None
            try:
                body = self._fetch(url)
            except urllib.error.HTTPError as exc:
                status = exc.code
                headers = exc.headers
                exc.close()
                if status in (401, 403):
                    raise AuthError(
                        f"the token was rejected (HTTP {status}); check the API token and the "
                        "account URL",
                        status,
                    ) from None
                if status == 404:
                    raise NotFoundError(f"{shown}: not found (HTTP 404)", 404) from None
                if status == 429:
                    wait = retry_after_seconds(headers.get("Retry-After") if headers else None)
                    delay = self._backoff(attempt) if wait is None else wait
                    delay = min(delay, self.politeness.retry_after_max)
                    problem = "HTTP 429 (rate limited)"
                elif status in _RETRYABLE_STATUS:
                    wait = retry_after_seconds(headers.get("Retry-After") if headers else None)
                    delay = self._backoff(attempt)
                    if wait is not None:
                        delay = max(delay, min(wait, self.politeness.retry_after_max))
                    problem = f"HTTP {status}"
                elif 300 <= status < 400:
                    raise HttpError(
                        f"{shown}: the server redirected (HTTP {status}); check the account URL",
                        status,
                    ) from None
                else:
                    raise HttpError(f"{shown}: HTTP {status}", status) from None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, socket.gaierror):
                    raise TransportError(
                        f"cannot resolve the server's name ({self._host()})"
                    ) from None
                if isinstance(reason, ssl.SSLError):
                    raise TransportError(
                        f"secure connection to {self._host()} failed: {reason.__class__.__name__}"
                    ) from None
                delay = self._backoff(attempt)
                problem = redact(f"network error: {reason}", self._token)
            except _NETWORK_ERRORS as exc:
                delay = self._backoff(attempt)
                problem = redact(f"network error: {exc.__class__.__name__}", self._token)
            else:
                try:
                    return json.loads(body)
                except (UnicodeDecodeError, ValueError):
                    raise BadResponseError(
                        f"{shown}: the server sent malformed JSON", 200
                    ) from None
            if attempt >= self.politeness.max_retries:
                raise TransportError(
                    f"{shown}: gave up after {attempt + 1} attempts ({problem})", status
                )
            attempt += 1
            self._count("retries")
            self._sleep(delay)

    def _host(self) -> str:
        return urllib.parse.urlsplit(self.base_url).netloc

    def _fetch(self, url: str) -> bytes:
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"{self._auth_scheme} {self._token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        with self._opener.open(request, timeout=self.politeness.timeout) as response:
            return response.read()
