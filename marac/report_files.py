"""The quarterly return as files that leave the service: CSV and PDF.

Both are built from a ``PublishedReturn`` only: small numbers are already suppressed and there
is nothing about a person in it. Every string is escaped before it reaches a reportlab
Paragraph (its markup would otherwise read an agency's or area's name as tags), and a CSV cell
that a spreadsheet would run as a formula is made plain text.
"""

from __future__ import annotations

import csv
import io
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marac import suppression
from marac.reporting import PublishedReturn

SUPPRESSION_NOTE = (
    f'Counts from 1 to {suppression.SMALL_MAX} are shown as "{suppression.SMALL_WORDING}". '
    f"Where a total or another count would let one of them be worked out by subtraction, it is "
    f'"{suppression.HIDDEN_WORDING}". Each hearing counts: a case heard at two meetings counts '
    "at each."
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(cell: str) -> str:
    """A spreadsheet runs a cell that starts like a formula; a leading quote keeps it text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def title(published: PublishedReturn) -> str:
    return f"MARAC data return: {published.area_name}, {published.quarter.label}"


def return_csv(published: PublishedReturn, marking: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_plain(marking)])
    writer.writerow([_plain(title(published))])
    writer.writerow(["Measure", *(_plain(c) for c in published.column_labels)])
    for label, cells in published.rows:
        writer.writerow([_plain(label), *cells])
    writer.writerow([SUPPRESSION_NOTE])
    writer.writerow([_plain(marking)])
    return out.getvalue().encode("utf-8")


def _numbered_canvas(marking: str, heading: str) -> type[pdf_canvas.Canvas]:
    """A canvas that holds its pages until the end, so each can say "page x of y"."""

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self._furniture(number, total)
                super().showPage()
            super().save()

        def _furniture(self, number: int, total: int) -> None:
            width, height = self._pagesize
            self.setFont("Helvetica-Bold", 10)
            self.drawCentredString(width / 2, height - 12 * mm, marking)
            self.drawCentredString(width / 2, 8 * mm, marking)
            self.setFont("Helvetica", 8)
            self.drawString(15 * mm, 8 * mm, heading)
            self.drawRightString(width - 15 * mm, 8 * mm, f"Page {number} of {total}")

    return NumberedCanvas


def return_pdf(published: PublishedReturn, marking: str) -> bytes:
    styles = getSampleStyleSheet()
    cell_style = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    heading = title(published)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=heading,
        author="MARAC coordination service",
    )

    def para(text: str, style: object = cell_style) -> Paragraph:
        return Paragraph(escape(text), style)

    # Twelve meetings fit a landscape page; more (weekly meetings) go on to further tables.
    per_table = 12
    labels = published.column_labels[:-1]
    story: list = [para(heading, styles["Title"]), para(SUPPRESSION_NOTE, styles["BodyText"])]
    chunks = [range(i, min(i + per_table, len(labels))) for i in range(0, len(labels), per_table)]
    for n, chunk in enumerate(chunks or [range(0)]):
        last = n == len(chunks) - 1 or not chunks
        columns = [*chunk, *([len(labels)] if last else [])]
        header = [para("Measure"), *(para(published.column_labels[c]) for c in columns)]
        body = [
            [para(label), *(para(cells[c]) for c in columns)] for label, cells in published.rows
        ]
        table = Table([header, *body], repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf2")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [Spacer(1, 6 * mm), table]
    buffer_canvas = _numbered_canvas(marking, heading)
    document.build(story, canvasmaker=buffer_canvas)
    return buffer.getvalue()
