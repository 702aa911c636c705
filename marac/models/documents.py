"""Documents the service issued: each PDF's number, to whom, its SHA-256, who issued it and when.

A leaked copy can be traced: its number and recipient are printed on every page, and the hash of
its bytes identifies it even when the pages are cropped out. Issued papers are kept as issued
(``content``) so that an agency downloads exactly what was recorded; re-issuing after a correction
makes new documents and marks the old ones superseded, never rewrites them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from marac.domain import DocumentKind
from marac.extensions import db
from marac.models.agencies import Agency, User
from marac.models.base import enum_type, utcnow


class IssuedDocument(db.Model):
    __tablename__ = "issued_document"
    __table_args__ = (
        # Verification looks a file up by its hash.
        sa.Index("ix_issued_document_sha256", "sha256"),
        sa.Index("ix_issued_document_meeting_kind", "meeting_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on every page ("NM-P2026-000042"); set once the row has its id.
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("area.id"))
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind))
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("marac_case.id"))
    recipient_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    # Set for a PDF made on demand: the one user it was made for.
    recipient_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(default=0)
    protective_marking: Mapped[str] = mapped_column(sa.String(60))
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Why the papers were issued again (a correction), on the documents that replace others.
    reissue_reason: Mapped[str | None] = mapped_column(sa.Text)
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Kept only for issued papers; a PDF made on demand is recorded by its hash alone.
    content: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))

    recipient_agency: Mapped[Agency] = relationship(foreign_keys=[recipient_agency_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    def __repr__(self) -> str:
        return f"<IssuedDocument {self.number}>"
