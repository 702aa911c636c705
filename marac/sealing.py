"""Secrets the service must read back (the second-factor secret of each account), kept in the
database sealed with the instance's data key: Fernet, authenticated encryption from the
cryptography library. A copy of the database (a backup, a dump, a stolen disk) then holds
nothing that would generate anyone's sign-in codes without the key, which lives apart from it
(``MARAC_DATA_KEY`` or the instance folder; docs/security.md).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
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


def seal(text: str) -> str:
    return seal_with(current_app.config["MARAC_DATA_KEY"], text)


def unseal(token: str) -> str:
    return unseal_with(current_app.config["MARAC_DATA_KEY"], token)
