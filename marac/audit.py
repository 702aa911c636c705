"""The only writer of audit entries.

Each entry says who (user and agency), when, what (an action name and the object), and from where.
Entries describe what happened in words and field names, never the sensitive values: the audit
trail must be safe to show to an administrator who may not see case detail.
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from marac.extensions import db
from marac.models import AuditEntry, User


def record(
    action: str,
    *,
    user: User | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: str | None = None,
    session: Session | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; it commits (or rolls back) with the change."""
    if user is None and has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            user = current_user
    entry = AuditEntry(
        action=action,
        user_id=user.id if user is not None else None,
        agency_id=user.agency_id if user is not None else None,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
        remote_addr=request.remote_addr if has_request_context() else "cli",
    )
    (session or db.session).add(entry)
    return entry


def describe_changes(before: dict[str, object], after: dict[str, object]) -> str | None:
    """Names the fields that changed, e.g. "role, is_enabled". Values are left out on purpose."""
    changed = sorted(key for key in after if before.get(key) != after.get(key))
    return ", ".join(changed) if changed else None
