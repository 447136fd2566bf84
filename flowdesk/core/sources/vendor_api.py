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
from flowdesk.core.sources.api_source import ApiSource
from flowdesk.core.sources.base import SyncState
from flowdesk.core.sources.http import ApiClient, BadResponseError, Politeness
from flowdesk.core.sources.urls import relative_link


class VendorApiSource(ApiSource):
    """Base of a connector whose listings are paged by next links. Subclasses say where a
    page's next link is (``_next_link``) and how requests authenticate (``auth_scheme``)."""

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
        super().__init__(
            base_url, credential, politeness or Politeness(rate=default_rate), sleep=sleep
        )
        self.catalogue = catalogue  # None: asked of the sync's state when a sync starts

    def _start(self, state: SyncState, is_cancelled: Callable[[], bool]) -> ApiClient:
        """A client for one sync, and the catalogue the sync places runs in."""
        if self.catalogue is None:
            self.catalogue = state.catalogue()
        return self.sync_client(state, is_cancelled)

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
