"""Secrets the service must read back (the second-factor secret of each account), kept in the
database sealed with the instance's data key: Fernet, authenticated encryption from the
cryptography library. A copy of the database (a backup, a dump, a stolen disk) then holds
nothing that would generate anyone's sign-in codes without the key, which lives apart from it
(``MARAC_DATA_KEY`` or the instance folder; docs/security.md).

Rotating the key: the new key becomes ``MARAC_DATA_KEY`` and the old one is listed in
``MARAC_DATA_KEY_PREVIOUS``; values sealed with either open, new values are sealed with the new
key, and ``marac reseal-secrets`` seals every stored value again with the new one, after which
the old key can be dropped.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SealBroken(Exception):
    """A sealed value that this instance's key cannot open: another key, or altered."""


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def seal_with(key: str, text: str) -> str:
    return _fernet(key).encrypt(text.encode()).decode()


def unseal_with(key: str, token: str) -> str:
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SealBroken("sealed with another data key, or altered") from error


@lru_cache(maxsize=4)
def _keyring(current: str, previous: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in (current, *previous)])


def keyring_of(config: dict | None = None) -> MultiFernet:
    """The current key first (it seals), then the previous ones (they only open)."""
    config = config if config is not None else current_app.config
    return _keyring(config["MARAC_DATA_KEY"], tuple(config.get("MARAC_DATA_KEY_PREVIOUS") or ()))


def seal(text: str) -> str:
    return seal_with(current_app.config["MARAC_DATA_KEY"], text)


def unseal(token: str) -> str:
    try:
        return keyring_of().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SealBroken("sealed with another data key, or altered") from error


def reseal(token: str) -> str:
    """The same value sealed again with the current key (opened with any key of the ring)."""
    try:
        return keyring_of().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SealBroken("sealed with another data key, or altered") from error


def previous_keys(listed: str | None) -> tuple[str, ...]:
    """``MARAC_DATA_KEY_PREVIOUS``: keys separated by commas or spaces; each must be a key."""
    keys = tuple(part for part in (listed or "").replace(",", " ").split() if part)
    for key in keys:
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as error:
            raise ValueError(
                "MARAC_DATA_KEY_PREVIOUS holds something that is not a data key"
            ) from error
    return keys
