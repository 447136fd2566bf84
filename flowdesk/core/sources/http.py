"""A polite JSON-over-HTTP client: rate limited, bounded retries, token never in a message.

Built on the standard library (``urllib``) so it honours the system's proxy settings and needs no
extra dependency. One :class:`ApiClient` may be shared by a few worker threads: the rate limiter,
the counters and the cancellation flag are thread-safe.

Faults and what the client does with them:

* 401 / 403 → :class:`AuthError` at once (never retried).
* 404 → :class:`NotFoundError`; other 4xx → :class:`HttpError` (not retried).
* 429 → wait for ``Retry-After`` (seconds or an HTTP date, capped), then retry.
* 5xx, timeouts, connection resets, truncated bodies → retry with exponential backoff and jitter.
* Retries are bounded (``max_retries``), and so is the time spent waiting between them
  (``wait_budget``); then :class:`TransportError`. Every wait of a second or more is announced
  through ``on_wait`` so the user sees why nothing moves.
* Each request has a total deadline (``deadline``): connect, headers and the whole body. The socket
  timeout alone bounds only each read, so a body sent at one byte a second would never end.
* A 200 whose body is not JSON → :class:`BadResponseError` (not retried: the caller decides).

Redirects are not followed: a redirect could carry the ``Authorization`` header to another host.

Why the standard library and not httpx: the client needs a total deadline, which httpx does not
have either (its timeouts are per operation, like the socket's), so the watchdog below would be
needed anyway; urllib honours the system's proxy settings; and the rate limit (5 requests/s per
account) rather than connection setup bounds a sync, so keep-alive would save little time while
adding four packages to the frozen app.
"""

from __future__ import annotations

import contextlib
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
from flowdesk.core.sources.credentials import check_token

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
    timeout: float = 30.0  # seconds per operation (connect, each read)
    deadline: float = 120.0  # seconds per request attempt, whole body included
    max_retries: int = 5  # extra attempts after the first
    backoff_base: float = 1.0  # first backoff, doubled at each retry
    backoff_max: float = 60.0
    retry_after_max: float = 300.0  # longest Retry-After honoured; longer waits are capped
    wait_budget: float = 600.0  # total seconds one request may spend waiting to be retried


def check_politeness() -> Politeness:
    """How a connection test presses: one retry and short waits, since a person is waiting on
    the answer (the Test button of a Connect dialog)."""
    return Politeness(max_retries=1, timeout=15.0, backoff_base=0.5)


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


class _Watchdog:
    """Shuts the socket of a request that outlives its total deadline.

    The connection classes below hand their socket over as soon as it exists; a timer shuts it
    down at the deadline, which ends any blocked read at once (the caller then reports a
    timeout). One watchdog per request attempt, armed for the calling thread.
    """

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _Watchdog._current.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _Watchdog._current.watch = None

    @classmethod
    def watch(cls, sock: socket.socket | None) -> None:
        current = getattr(cls._current, "watch", None)
        if current is not None and sock is not None:
            with current._lock:
                current._sock = sock
                expired = current.expired
            if expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._sock
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _Watchdog.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _Watchdog.watch(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):  # noqa: ANN001, ANN201 - urllib's signature
        return self.do_open(_WatchedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):  # noqa: ANN001, ANN201 - urllib's signature
        return self.do_open(_WatchedHTTPSConnection, req, context=self._context)


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
        on_wait: Callable[[float, str], None] | None = None,
        token_headers: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sleep`` and ``clock`` replace the real ones in tests: together they make the rate
        limiter's spacing a fact of the test, not of the machine's load."""
        self.base_url = base_url.rstrip("/")
        self._token = check_token(token)
        self._auth_scheme = auth_scheme
        # Headers that carry the bare token besides ``Authorization`` (``Api-Token``).
        self._token_headers = token_headers
        self.on_wait = on_wait
        self.politeness = politeness or Politeness()
        self.is_cancelled = is_cancelled
        self._sleep_impl = sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(self.politeness.rate, clock=clock)
        self._lock = threading.Lock()
        self._stats = {"requests": 0, "retries": 0}
        self._opener = urllib.request.build_opener(_NoRedirect(), _HTTPHandler(), _HTTPSHandler())

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

    def pause(self, attempt: int, reason: str) -> None:
        """Wait before retrying something the caller decided to retry (counted as a retry)."""
        self._count("retries")
        delay = self._backoff(attempt)
        self._announce(delay, reason)
        self._sleep(delay)

    def _announce(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None and seconds >= 1.0:
            self.on_wait(seconds, reason)

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
        waited = 0.0
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
                    if wait is not None and wait > delay:
                        problem += f"; the server asked to wait {_duration(wait)}"
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
            except _DeadlineError:
                delay = self._backoff(attempt)
                problem = f"no complete answer within {_duration(self.politeness.deadline)}"
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
            if waited + delay > self.politeness.wait_budget:
                raise TransportError(
                    f"{shown}: gave up after waiting {_duration(waited)} in {attempt + 1} "
                    f"attempts ({problem}); try again later",
                    status,
                )
            attempt += 1
            waited += delay
            self._count("retries")
            self._announce(delay, problem)
            self._sleep(delay)

    def _host(self) -> str:
        return urllib.parse.urlsplit(self.base_url).netloc

    def _fetch(self, url: str) -> bytes:
        headers = {
            "Authorization": f"{self._auth_scheme} {self._token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        for name in self._token_headers:
            headers[name] = self._token
        request = urllib.request.Request(url, headers=headers)
        with _Watchdog(self.politeness.deadline) as watchdog:
            try:
                with self._opener.open(request, timeout=self.politeness.timeout) as response:
                    body = response.read()
            except (OSError, http.client.HTTPException):
                if watchdog.expired:
                    raise _DeadlineError() from None
                raise
            if watchdog.expired:  # a body without a length ends early when its socket is shut
                raise _DeadlineError()
            return body


class _DeadlineError(Exception):
    """A request attempt outlived ``Politeness.deadline`` (its socket was shut)."""


def describe_wait(seconds: float, reason: str) -> str:
    """The progress note for a wait: ``waiting 5 min before retrying (HTTP 429 …)``."""
    return f"waiting {_duration(seconds)} before retrying ({reason})"


def _duration(seconds: float) -> str:
    """``45 s``, ``5 min``, ``27.8 h``: a wait as a person reads it."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
