"""What the RapidPro and Twilio Studio connectors share (see docs/rapidpro-twilio.md).

Both read an authenticated JSON API politely, follow the server's own next-page links (never off
the API's host: the credentials would go with them), and place runs among the versions stored so
far (their runs do not say which version they ran), which they ask of whoever writes the batches:
a desktop cache or the team server (``SyncState.catalogue``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.sources.base import SyncState
from flowdesk.core.sources.http import ApiClient, BadResponseError, Politeness
from flowdesk.core.sources.urls import relative_link


class VendorApiSource:
    """Base of a connector whose listings are paged by next links. Subclasses say where a
    page's next link is (``_next_link``) and how requests authenticate (``auth_scheme``)."""

    kind: str
    name: str
    auth_scheme = "Token"

    def __init__(
        self,
        base_url: str,
        credential: str,
        *,
        catalogue: Catalogue | None,
        politeness: Politeness | None,
        default_rate: float,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.base_url = base_url
        self._credential = credential
        self.catalogue = catalogue  # None: asked of the sync's state when a sync starts
        self.politeness = politeness or Politeness(rate=default_rate)
        self._sleep = sleep

    def _start(self, state: SyncState, is_cancelled: Callable[[], bool]) -> ApiClient:
        """A client for one sync, and the catalogue the sync places runs in."""
        if self.catalogue is None:
            self.catalogue = state.catalogue()
        return ApiClient(
            self.base_url,
            self._credential,
            self.politeness,
            sleep=self._sleep,
            is_cancelled=is_cancelled,
            auth_scheme=self.auth_scheme,
        )

    def _next_link(self, page: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _pages(
        self, client: ApiClient, path: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[Any]]:
        """The ``key`` lists of a paged listing, page by page, following its next links."""
        data = client.get_json(path, params)
        while True:
            if not isinstance(data, dict) or not isinstance(data.get(key), list):
                raise BadResponseError(f"{path}: the answer has no {key} list")
            yield data[key]
            link = self._next_link(data)
            if not link:
                return
            try:
                data = client.get_json(relative_link(str(link), self.base_url))
            except ValueError as exc:
                raise BadResponseError(str(exc)) from None

    def _all(self, client: ApiClient, path: str, key: str) -> list[Any]:
        return [item for page in self._pages(client, path, key) for item in page]
