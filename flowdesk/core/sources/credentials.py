"""API tokens: the environment first, then the operating system's keyring; never plain files.

Tokens are keyed by the account's normalised base URL (``https://acme.api-us1.com/api/3``), so
several accounts can each keep their own. ``FLOWDESK_AC_TOKEN`` overrides the keyring for every
account (the CLI's way in). With ``FLOWDESK_NO_KEYRING=1`` (set by the test suite) the real
keyring is never touched: tokens live in a dictionary of this process instead.
"""

from __future__ import annotations

import contextlib
import os
import threading

from flowdesk.core.errors import UserError

SERVICE = "flowdesk-activecampaign"
ENV_TOKEN = "FLOWDESK_AC_TOKEN"
ENV_NO_KEYRING = "FLOWDESK_NO_KEYRING"


class CredentialError(UserError):
    """The token could not be stored or read; the message is meant for the user."""


_memory: dict[str, str] = {}
_memory_lock = threading.Lock()


def _keyring_disabled() -> bool:
    return os.environ.get(ENV_NO_KEYRING, "").strip() not in ("", "0", "false", "no")


def _keyring():
    try:
        import keyring
        import keyring.errors
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    return keyring


def keyring_available() -> bool:
    """Whether tokens can be stored safely on this machine."""
    if _keyring_disabled():
        return True
    module = _keyring()
    if module is None:
        return False
    try:
        from keyring.backends import fail

        return not isinstance(module.get_keyring(), fail.Keyring)
    except Exception:  # noqa: BLE001 - a broken backend means "not available"
        return False


def env_token(env: str = ENV_TOKEN) -> str | None:
    token = os.environ.get(env, "").strip()
    return token or None


def load_token(account: str, *, env: str = ENV_TOKEN, service: str = SERVICE) -> str | None:
    """The token for ``account`` (a normalised base URL): environment, then keyring.

    Other upstreams name their own variable and keyring service (``FLOWDESK_RAPIDPRO_TOKEN``,
    ``flowdesk-rapidpro``...)."""
    token = env_token(env)
    if token:
        return token
    if _keyring_disabled():
        with _memory_lock:
            return _memory.get(f"{service}\x1f{account}")
    module = _keyring()
    if module is None:
        return None
    try:
        return module.get_password(service, account) or None
    except Exception:  # noqa: BLE001 - no backend, locked, or denied: no token
        return None


def store_token(account: str, token: str, *, env: str = ENV_TOKEN, service: str = SERVICE) -> None:
    """Keep ``token`` in the keyring; raises :class:`CredentialError` when there is none."""
    token = token.strip()
    if not token:
        raise CredentialError("the API token is empty")
    if _keyring_disabled():
        with _memory_lock:
            _memory[f"{service}\x1f{account}"] = token
        return
    module = _keyring()
    if module is None or not keyring_available():
        raise CredentialError(
            "no system keyring is available to keep the token; set the environment variable "
            f"{env} instead"
        )
    try:
        module.set_password(service, account, token)
    except Exception as exc:  # noqa: BLE001
        raise CredentialError(
            f"the system keyring refused to store the token ({exc.__class__.__name__})"
        ) from None


def delete_token(account: str, *, service: str = SERVICE) -> None:
    if _keyring_disabled():
        with _memory_lock:
            _memory.pop(f"{service}\x1f{account}", None)
        return
    module = _keyring()
    if module is None:
        return
    with contextlib.suppress(Exception):  # nothing stored is fine
        module.delete_password(service, account)
