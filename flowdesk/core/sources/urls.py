"""Account URLs as people type them, turned into API base URLs every connector trusts.

``acme.api-us1.com``, ``https://textit.com/`` or ``https://host/api/v2`` become
``https://host[:port]<api path>``. Plain ``http://`` is refused except on the loopback
interface, where the test servers live: a token must not cross a network in clear text.
"""

from __future__ import annotations

import urllib.parse

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def normalize_api_url(url: str, api_path: str, hint: str) -> str:
    """``url`` as ``scheme://host[:port]`` + a path ending in ``api_path``; ValueError otherwise.

    ``hint`` finishes the message for a URL with another path ("should look like …").
    """
    text = (url or "").strip()
    if not text:
        raise ValueError("the account URL is empty")
    if "://" not in text:
        text = "https://" + text
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"the account URL must start with https:// (got {parts.scheme}://)")
    try:
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ValueError("the account URL has an invalid port") from None
    if not host:
        raise ValueError("the account URL has no host name")
    if parts.username or parts.password:
        raise ValueError("the account URL must not contain a user name or password")
    if scheme == "http" and host not in LOOPBACK:
        raise ValueError("the account URL must use https://")
    path = parts.path.rstrip("/")
    if not path:
        path = api_path
    elif not path.endswith(api_path):
        raise ValueError(f"the account URL should look like {hint}")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}"


def relative_link(link: str, base_url: str) -> str:
    """A pagination link (``next``) as a path under ``base_url``; ValueError when it points
    elsewhere, since following it would send the credentials to another server."""
    base = urllib.parse.urlsplit(base_url)
    target = urllib.parse.urlsplit(urllib.parse.urljoin(base_url + "/", link))
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not target.path.startswith(
        base.path
    ):
        raise ValueError(f"the server's next-page link leaves {base.netloc}")
    path = target.path[len(base.path) :].lstrip("/")
    return path + (f"?{target.query}" if target.query else "")
