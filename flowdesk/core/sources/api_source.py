"""What every connector over an HTTP API shares: where it reads, with which credential, how
politely, and a client for one sync whose waits show in the sync's progress.

ActiveCampaign, RapidPro and Twilio Studio differ in how they page and what they read; the
client they read through is made here once, so a wait for a rate limit (up to minutes) says
why nothing moves whichever source is syncing.
"""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.core.sources.base import SyncState
from flowdesk.core.sources.http import ApiClient, Politeness, describe_wait


class ApiSource:
    """Base of the API connectors. Subclasses say how requests authenticate (``auth_scheme``,
    and ``token_headers`` that carry the bare credential too)."""

    kind: str
    name: str
    auth_scheme = "Token"
    token_headers: tuple[str, ...] = ()

    def __init__(
        self,
        base_url: str,
        credential: str,
        politeness: Politeness,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``sleep`` and ``clock`` replace the real ones in tests (see :class:`ApiClient`)."""
        self.base_url = base_url
        self._credential = credential
        self.politeness = politeness
        self._sleep = sleep
        self._rate_clock = clock  # with ``sleep``: the rate limiter's time, in tests

    def client(
        self,
        is_cancelled: Callable[[], bool] = lambda: False,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> ApiClient:
        return ApiClient(
            self.base_url,
            self._credential,
            self.politeness,
            sleep=self._sleep,
            is_cancelled=is_cancelled,
            on_wait=on_wait,
            auth_scheme=self.auth_scheme,
            token_headers=self.token_headers,
            **({"clock": self._rate_clock} if self._rate_clock is not None else {}),
        )

    def sync_client(self, state: SyncState, is_cancelled: Callable[[], bool]) -> ApiClient:
        """The client of one sync: each wait of a second or more is a progress note."""
        return self.client(
            is_cancelled, lambda seconds, reason: state.notify(describe_wait(seconds, reason))
        )
