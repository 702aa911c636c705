"""Configuration: environment variables first, safe defaults second.

Every setting can be given as ``MARAC_<NAME>`` in the environment. Nothing secret lives in the
repository: the session key and the data key are read from ``MARAC_SECRET_KEY`` and
``MARAC_DATA_KEY`` or generated once into the instance folder (readable by the service's own
user only).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def instance_secret_key(instance_path: Path) -> str:
    """Read the instance's session key, creating it on first run with owner-only permissions."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        # O_EXCL so two workers starting together cannot both write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def instance_data_key(instance_path: Path) -> str:
    """Read the key that seals secrets in the database (marac.sealing), creating it on first run
    with owner-only permissions. Kept apart from the database, so a copy of it is not enough."""
    from cryptography.fernet import Fernet

    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "data_key"
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(Fernet.generate_key().decode())
    return key_file.read_text().strip()


def _previous_data_keys() -> tuple[str, ...]:
    from marac.sealing import previous_keys

    return previous_keys(os.environ.get("MARAC_DATA_KEY_PREVIOUS"))


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'marac.sqlite3'}"


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Settings for a real deployment (and the demo), read from the environment."""
    return {
        "SECRET_KEY": os.environ.get("MARAC_SECRET_KEY") or instance_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("MARAC_DATABASE_URL")
        or default_database_url(instance_path),
        # Seals the second-factor secrets in the database; lose it and everyone enrols again.
        "MARAC_DATA_KEY": os.environ.get("MARAC_DATA_KEY") or instance_data_key(instance_path),
        # Keys the data used to be sealed with, while a new key is rolled out (marac.sealing).
        "MARAC_DATA_KEY_PREVIOUS": _previous_data_keys(),
        # Cookies are Secure unless the operator says the service is served over plain HTTP
        # (only the loopback demo does that).
        "SESSION_COOKIE_SECURE": _env_bool("MARAC_COOKIE_SECURE", True),
        "REMEMBER_COOKIE_SECURE": _env_bool("MARAC_COOKIE_SECURE", True),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_env_int("MARAC_SESSION_IDLE_MINUTES", 15)),
        "MARAC_SESSION_ABSOLUTE_HOURS": _env_int("MARAC_SESSION_ABSOLUTE_HOURS", 10),
        "MARAC_PROTECTIVE_MARKING": os.environ.get(
            "MARAC_PROTECTIVE_MARKING", "OFFICIAL-SENSITIVE"
        ),
        "MARAC_HSTS": _env_bool("MARAC_HSTS", True),
        # Where sign-in attempts are counted per address: memory suits one process; several
        # workers or servers must share a store, e.g. redis://host:6379/0 (install `.[redis]`).
        "RATELIMIT_STORAGE_URI": os.environ.get("MARAC_RATELIMIT_STORAGE_URI") or "memory://",
        "MARAC_LOGIN_RATE_LIMIT": os.environ.get("MARAC_LOGIN_RATE_LIMIT")
        or BASE["MARAC_LOGIN_RATE_LIMIT"],
        "MARAC_LOGIN_LOCK_AFTER": _env_int("MARAC_LOGIN_LOCK_AFTER", 5),
        "MARAC_LOGIN_LOCK_MINUTES": _env_int("MARAC_LOGIN_LOCK_MINUTES", 15),
        "MARAC_REAUTH_MINUTES": _env_int("MARAC_REAUTH_MINUTES", 5),
        "MARAC_PROXY_HOPS": _env_int("MARAC_PROXY_HOPS", 0),
        # "Overdue" and "due soon" are judged against today here, not the server's UTC date.
        "MARAC_TIMEZONE": os.environ.get("MARAC_TIMEZONE") or "Europe/London",
        # Reminder emails link here, and say nothing else.
        "MARAC_BASE_URL": os.environ.get("MARAC_BASE_URL") or "http://127.0.0.1:5000",
        # Without a host, reminders stay queued in the outbox.
        "MARAC_SMTP_HOST": os.environ.get("MARAC_SMTP_HOST") or None,
        "MARAC_SMTP_PORT": _env_int("MARAC_SMTP_PORT", 587),
        "MARAC_SMTP_USER": os.environ.get("MARAC_SMTP_USER") or None,
        "MARAC_SMTP_PASSWORD": os.environ.get("MARAC_SMTP_PASSWORD") or None,
        "MARAC_SMTP_FROM": os.environ.get("MARAC_SMTP_FROM") or "marac@localhost",
        "MARAC_SMTP_STARTTLS": _env_bool("MARAC_SMTP_STARTTLS", True),
        # After he drops out or is suspended, her worker's contact is weekly for this long.
        "MARAC_PC_STEP_UP_WEEKS": _env_int("MARAC_PC_STEP_UP_WEEKS", 12),
        # Closed cases are deleted this many years after closing (docs/security.md says why).
        "MARAC_RETENTION_YEARS": _env_int("MARAC_RETENTION_YEARS", 6),
    }


BASE: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    # Lax, not Strict: a link from an email reminder must land signed in.
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "marac_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # "Remember me" would keep a session alive on a shared office computer: never issued.
    "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which has its own timeouts
    "WTF_CSRF_HEADERS": ["X-CSRFToken"],
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MARAC_PROTECTIVE_MARKING": "OFFICIAL-SENSITIVE",
    "MARAC_SESSION_ABSOLUTE_HOURS": 10,
    "MARAC_HSTS": True,
    # Said outright: Flask-Limiter otherwise inherits the setting of the last app built.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Per address, on the sign-in and confirm-it-is-you forms (failed or not).
    "MARAC_LOGIN_RATE_LIMIT": "10 per minute;100 per hour",
    "MARAC_LOGIN_LOCK_AFTER": 5,
    "MARAC_LOGIN_LOCK_MINUTES": 15,
    # How long a sign-in (or a confirmation of it) counts as recent for sensitive actions.
    "MARAC_REAUTH_MINUTES": 5,
    # The name an authenticator app shows beside the account.
    "MARAC_TOTP_ISSUER": "marac",
    # Reverse proxies in front of the service whose X-Forwarded-For/-Proto are trusted: the
    # client's address (rate limits, audit) and HTTPS (HSTS, secure cookies) come from them.
    "MARAC_PROXY_HOPS": 0,
    "MARAC_TIMEZONE": "Europe/London",
    "MARAC_BASE_URL": "http://127.0.0.1:5000",
    "MARAC_SMTP_HOST": None,
    "MARAC_SMTP_PORT": 587,
    "MARAC_SMTP_USER": None,
    "MARAC_SMTP_PASSWORD": None,
    "MARAC_SMTP_FROM": "marac@localhost",
    "MARAC_SMTP_STARTTLS": True,
    "MARAC_PC_STEP_UP_WEEKS": 12,
    "MARAC_RETENTION_YEARS": 6,
    # argon2id parameters (RFC 9106 second recommended option, memory-constrained).
    "MARAC_ARGON2": {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4},
    "TESTING": False,
}

# Tests hash many passwords: cheap parameters keep the suite fast. Never used outside tests.
TESTING: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-only-not-a-secret",
    # A fixed Fernet key (32 bytes, URL-safe base64) for tests and synthetic benchmark data.
    "MARAC_DATA_KEY": "dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1kYXRhLWtleSE=",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "MARAC_HSTS": False,
    # The suite signs in hundreds of times from one address; tests/test_signin.py turns the
    # limit back on to prove it.
    "RATELIMIT_ENABLED": False,
    "MARAC_ARGON2": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
    "PERMANENT_SESSION_LIFETIME": timedelta(minutes=15),
}
