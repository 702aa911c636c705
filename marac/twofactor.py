"""The second factor: time-based one-time codes (RFC 6238, pyotp) and one-time recovery codes.

Pure functions with no Flask: the sign-in service (``marac.services.accounts``) decides what a
result means for the account, and the demo's ``marac demo-code`` uses the same code maker.

- A code is accepted for its own 30-second step and one step either side (phone clocks drift),
  and never twice: the step accepted last is stored and older or equal steps are refused.
- Recovery codes are 16 characters from an alphabet without look-alikes (no 0/o, 1/l/i). The
  first four are kept in clear to find the row; the whole code is kept only as an argon2 hash.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 16
LOOKUP_LENGTH = 4

_SEPARATORS = re.compile(r"[\s\-]+")
_TOTP_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def current_code(secret: str, now: datetime) -> str:
    return code_for_step(secret, step_at(now))


def normalise(code: str) -> str:
    return _SEPARATORS.sub("", code or "").lower()


def looks_like_totp(code: str) -> bool:
    return bool(_TOTP_CODE.match(normalise(code)))


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The step whose code this is, if it is acceptable now and was not used before."""
    code = normalise(code)
    if not _TOTP_CODE.match(code):
        return None
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_for_step(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG element: no script, no style attribute (CSP)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
        title="QR code for your authenticator app",
    )


def grouped(text: str, size: int = 4) -> str:
    """Easier to copy by hand: "abcd efgh ...". Spaces and dashes are ignored when typed back."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


@dataclass(frozen=True)
class NewRecoveryCode:
    code: str  # shown once to the person, never stored

    @property
    def lookup(self) -> str:
        return self.code[:LOOKUP_LENGTH]

    @property
    def display(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4))


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[NewRecoveryCode]:
    return [
        NewRecoveryCode("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)))
        for _ in range(count)
    ]


def looks_like_recovery_code(code: str) -> bool:
    code = normalise(code)
    return len(code) == RECOVERY_LENGTH and all(c in RECOVERY_ALPHABET for c in code)
