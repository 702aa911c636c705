"""Reminder emails: queued into the outbox, delivered over SMTP when a server is configured.

A reminder says how many actions are due or overdue and links to the service. It never names a
person, a case, an agency's action or anything else from a case: email leaves the service's
protection, lands on phones and in shared inboxes, and is kept by other systems.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from marac import audit, clock, dashboards, policy
from marac.domain import ActionDashboard, Role
from marac.models import Agency, OutboxEmail, User
from marac.viewer import viewer_for

MAX_ATTEMPTS = 5
DUE_PATH = "/actions/due"


def reminder_subject(count: int) -> str:
    return f"You have {count} action{'' if count == 1 else 's'} due or overdue"


def reminder_body(count: int, base_url: str) -> str:
    return (
        f"{reminder_subject(count)}.\n\n"
        f"Sign in to see them: {base_url.rstrip('/')}{DUE_PATH}\n\n"
        "This message holds no case details on purpose. Please do not reply to it.\n"
    )


def queue_reminders(session: Session, base_url: str, today: date | None = None) -> int:
    """One message per user with actions due or overdue today; a second run the same day adds
    nothing. Returns how many were queued."""
    today = today or clock.service_today()
    users = session.scalars(
        sa.select(User)
        .join(Agency, Agency.id == User.agency_id)
        .where(
            User.is_enabled,
            Agency.is_active,
            User.email.is_not(None),
            User.role != Role.ADMINISTRATOR,
        )
        .options(selectinload(User.agency))
        .order_by(User.id)
    ).all()
    already = set(
        session.scalars(
            sa.select(OutboxEmail.dedupe_key).where(
                OutboxEmail.dedupe_key.like(f"reminder:%:{today.isoformat()}")
            )
        )
    )
    queued = 0
    for user in users:
        key = f"reminder:{user.id}:{today.isoformat()}"
        viewer = viewer_for(user)
        if key in already or not policy.may_see_dashboard(viewer, ActionDashboard.DUE).full:
            continue
        count = session.scalar(dashboards.due_count(viewer, today)) or 0
        if not count:
            continue
        session.add(
            OutboxEmail(
                recipient=user.email,
                recipient_user_id=user.id,
                subject=reminder_subject(count),
                body=reminder_body(count, base_url),
                dedupe_key=key,
            )
        )
        queued += 1
    session.flush()
    audit.record("email.reminders_queued", session=session, detail=f"{queued} queued for {today}")
    return queued


@dataclass(frozen=True)
class SendResult:
    configured: bool
    sent: int = 0
    failed: int = 0
    waiting: int = 0


def send_queued(
    session: Session,
    config: Mapping[str, Any],
    smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
    limit: int = 200,
) -> SendResult:
    """Deliver queued messages over SMTP. Without ``MARAC_SMTP_HOST`` they stay queued."""
    pending = sa.select(OutboxEmail).where(
        OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS
    )
    host = config.get("MARAC_SMTP_HOST")
    if not host:
        waiting = session.scalar(sa.select(sa.func.count()).select_from(pending.subquery()))
        return SendResult(configured=False, waiting=waiting or 0)
    messages = session.scalars(pending.order_by(OutboxEmail.created_at).limit(limit)).all()
    sent = 0
    # Each run is one attempt for every message it picks up, whether or not the server answers.
    for message in messages:
        message.attempts += 1
    try:
        with smtp_factory(host, config.get("MARAC_SMTP_PORT", 587), timeout=30) as smtp:
            if config.get("MARAC_SMTP_STARTTLS", True):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MARAC_SMTP_USER"):
                smtp.login(config["MARAC_SMTP_USER"], config.get("MARAC_SMTP_PASSWORD") or "")
            for message in messages:
                try:
                    smtp.send_message(_email(message, config.get("MARAC_SMTP_FROM", "")))
                except smtplib.SMTPException as error:
                    message.last_error = _describe(error)
                else:
                    message.sent_at = clock.utc_now()
                    message.last_error = None
                    sent += 1
    except (OSError, smtplib.SMTPException) as error:
        # The server could not be reached or refused us: every message not sent keeps waiting.
        for message in messages:
            if message.sent_at is None:
                message.last_error = _describe(error)
    failed = len(messages) - sent
    session.flush()
    audit.record("email.sent", session=session, detail=f"{sent} sent, {failed} failed")
    return SendResult(configured=True, sent=sent, failed=failed)


def _email(message: OutboxEmail, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]
