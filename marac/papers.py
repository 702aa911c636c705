"""The PDFs the service issues, built with reportlab from presented data only.

Nothing here reads the database or asks the policy: it is handed what ``marac.present_meetings``
and ``marac.present_papers`` made for one reader, where withheld things are simply absent, and it
lays that out. So a withheld value can never reach a file.

reportlab reads markup inside paragraph text (``<font>``, ``<img src>``, ``<a href>``, ``&``
entities): a user's note holding ``<img src=/etc/passwd>`` would pull in a local file, and a stray
``<`` or ``&`` would break the build. So no data value ever reaches a reportlab ``Paragraph``: text
is wrapped here (``wrap``: at spaces, and inside a word longer than a line) and drawn as plain
strings, which reportlab never parses, after ``plain`` has dropped control characters and shown
any character the font cannot draw as its code point. No data value is ever put in an image
source, a link or a colour. (It is also many times faster: a meeting's 16 copies are laid out
in about the time one took with a paragraph in every table cell.)

Every page carries the protective marking at top and bottom, the recipient, the document number,
the date issued, the meeting and "Page x of y". Everything is black on white (the header rows of
tables a light grey with bold text), so the papers read the same printed in black and white.
Tables split between rows and repeat their heading row on each page; long words wrap.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from marac.present_actions import PresentedAction
from marac.present_meetings import (
    AgendaRow,
    Identifier,
    PresentedAgenda,
    PresentedAgendaCase,
    PresentedMinutes,
)
from marac.present_papers import PresentedActionPlan

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "MaracSans"
FONT_BOLD = "MaracSans-Bold"
LANGUAGE = "en-GB"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
# Room above and below the body for the marking and the page furniture.
TOP_BAND = 24 * mm
BOTTOM_BAND = 26 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN


@dataclass(frozen=True)
class PaperHeading:
    """What every page of one document says about it."""

    title: str
    marking: str
    recipient: str
    number: str
    issued_on: date
    meeting: str | None = None


# --- fonts and safe text -----------------------------------------------------------------------


class _Font(TTFont):
    """The bundled font, with a short way through the most common text: printable ASCII.

    reportlab gives every character of a document's text a code in a font subset, one character
    at a time in Python, and that was most of the time spent writing a long meeting's papers.
    Printable ASCII always has its own code in the first subset (``asciiReadable``, set when the
    document's state is made), so such a line is its own bytes; anything else goes the long way.
    """

    def splitString(  # noqa: N802 (reportlab's name)
        self, text: str, doc: Any, encoding: str = "utf-8"
    ) -> list[tuple[int, bytes]]:
        if text.isascii() and text.isprintable() and doc in self.state and self._asciiReadable:
            return [(0, text.encode("ascii"))] if text else []
        return super().splitString(text, doc, encoding)


@cache
def _fonts() -> frozenset[int]:
    """Registers the bundled fonts once; answers the code points they have glyphs for."""
    regular = _Font(FONT, str(FONT_DIR / "DejaVuSans.ttf"), asciiReadable=1)
    bold = _Font(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf"), asciiReadable=1)
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(bold)
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )
    return frozenset(regular.face.charToGlyph) & frozenset(bold.face.charToGlyph)


_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def _char(ch: str, glyphs: frozenset[int]) -> str:
    code = ord(ch)
    if ch in "\t\v\f":
        return " "
    category = unicodedata.category(ch)
    if category == "Cc" or category == "Cs":
        # Control characters and lone surrogates cannot be drawn or stored: dropped.
        return ""
    # Beyond the Basic Multilingual Plane (most emoji) reportlab writes a text map that readers
    # and screen readers cannot decode, so those are shown as their code point too.
    if code <= 0xFFFF and (code in glyphs or category in ("Mn", "Me", "Cf")):
        return ch
    # No glyph (most emoji): its code point, so the reader knows something was there.
    return f"[U+{code:04X}]"


def plain(text: str | None) -> str:
    """A data value as it will be printed: characters the font cannot draw made visible."""
    text = text or ""
    if text.isascii() and text.isprintable():
        return text
    glyphs = _fonts()
    return "".join(_char(ch, glyphs) for ch in text)


# --- styles --------------------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    body = ParagraphStyle(
        "body",
        fontName=FONT,
        fontSize=9.5,
        leading=12.5,
        textColor=colors.black,
        spaceAfter=4,
        # Long words (a reference, a pasted address) are broken rather than run off the page.
        splitLongWords=1,
    )
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0),
        "head": ParagraphStyle(
            "head", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=10.5, spaceAfter=0
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20, spaceAfter=6
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=13,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10.5,
            leading=13,
            spaceBefore=6,
            spaceAfter=3,
        ),
        "note": ParagraphStyle("note", parent=body, leftIndent=8, borderPadding=0),
    }


class _Lines(Flowable):
    """A block of plain text in one font, wrapped here, drawn as one text object; it breaks
    across pages between lines. No markup: the text is drawn as it is."""

    def __init__(self, text: str | None, style: ParagraphStyle) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.lines: list[str] = []
        self.spaceBefore = style.spaceBefore
        self.spaceAfter = style.spaceAfter

    @classmethod
    def _of(cls, lines: list[str], style: ParagraphStyle) -> _Lines:
        block = cls(None, style)
        block.lines = lines
        return block

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        if self.text is not None:
            width = availWidth - self.style.leftIndent
            self.lines = wrap(self.text, width, self.style.fontName, self.style.fontSize)
            self.text = None
        self.width = availWidth
        self.height = len(self.lines) * self.style.leading
        return availWidth, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        self.wrap(availWidth, availHeight)
        fit = int(availHeight // self.style.leading)
        if fit <= 0 or fit >= len(self.lines):
            return []
        first, rest = (
            _Lines._of(self.lines[:fit], self.style),
            _Lines._of(self.lines[fit:], self.style),
        )
        first.spaceAfter = 0
        rest.spaceBefore = 0
        return [first, rest]

    def draw(self) -> None:
        style = self.style
        text = self.canv.beginText(style.leftIndent, self.height - style.fontSize)
        text.setFillColor(colors.black)
        text.setFont(style.fontName, style.fontSize, style.leading)
        text.textLines(self.lines, trim=0)
        self.canv.drawText(text)


def _p(text: str | None, style: str = "body") -> Flowable:
    return _Lines(text, _styles()[style])


# Room a section heading needs below it on the page (the heading and two lines of what follows);
# with less, it starts the next page rather than sit alone at the foot of this one. Cheaper than
# keeping a heading with the whole of what follows, which moved every long table to a new page.
SECTION_ROOM = 18 * mm
# The same for a case's heading: it, the people's identifiers, and its first section's start.
CASE_ROOM = 40 * mm


def _section(title: str) -> list[Flowable]:
    """A section heading of a case, never left alone at the foot of a page."""
    return [CondPageBreak(SECTION_ROOM), _p(title, "h2")]


def _labelled(label: str, text: str | None, style: str = "body") -> Flowable:
    """A fixed label in bold beside a data value."""
    size = _styles()[style].fontSize
    leading = _styles()[style].leading
    label_width = 42 * mm
    value_width = BODY_WIDTH - label_width - 2
    table = _Table(
        [
            [
                "\n".join(wrap(label, label_width, FONT_BOLD, size)),
                "\n".join(wrap(text, value_width, FONT, size)),
            ]
        ],
        colWidths=[label_width, BODY_WIDTH - label_width],
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, 0), FONT_BOLD, size, leading),
                ("FONT", (1, 0), (1, 0), FONT, size, leading),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _day(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _moment(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M}" if moment else ""


# --- the page furniture ------------------------------------------------------------------------


class _PaperCanvas(rl_canvas.Canvas):
    """Draws the marking, recipient, number, date, meeting and "Page x of y" on every page once
    the number of pages is known (each page is kept until the end, then drawn)."""

    heading: PaperHeading

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lang", LANGUAGE)
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._furniture(number, total)
            super().showPage()
        super().save()

    def _furniture(self, page: int, total: int) -> None:
        h = self.heading
        self.saveState()
        self.setFillColor(colors.black)
        self.setStrokeColor(colors.black)
        # The marking, top and bottom, in capitals and bold: it must survive any photocopy.
        self.setFont(FONT_BOLD, 11)
        self.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 11 * mm, plain(h.marking))
        self.drawCentredString(PAGE_WIDTH / 2, 8 * mm, plain(h.marking))
        self.setFont(FONT, 8)
        wide, narrow = BODY_WIDTH * 0.70, BODY_WIDTH * 0.28
        recipient = f"Recipient: {plain(h.recipient)}"
        number = f"Document {h.number}"
        top = PAGE_HEIGHT - 17 * mm
        self.drawString(MARGIN, top, _fit(recipient, FONT, 8, wide))
        self.drawRightString(PAGE_WIDTH - MARGIN, top, _fit(number, FONT, 8, narrow))
        self.setLineWidth(0.6)
        self.line(MARGIN, top - 2.5 * mm, PAGE_WIDTH - MARGIN, top - 2.5 * mm)
        issued = f"Issued {_day(h.issued_on)}" + (f" · {plain(h.meeting)}" if h.meeting else "")
        self.line(MARGIN, 21 * mm, PAGE_WIDTH - MARGIN, 21 * mm)
        self.drawString(MARGIN, 17.5 * mm, _fit(issued, FONT, 8, wide))
        self.drawRightString(PAGE_WIDTH - MARGIN, 17.5 * mm, f"Page {page} of {total}")
        self.drawString(MARGIN, 13.5 * mm, _fit(recipient, FONT, 8, wide))
        self.drawRightString(PAGE_WIDTH - MARGIN, 13.5 * mm, _fit(number, FONT, 8, narrow))
        self.restoreState()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Shortens a line of page furniture to its room (the full value is on the first page)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _build(heading: PaperHeading, story: list[Any], subject: str) -> bytes:
    _fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP_BAND,
        bottomMargin=BOTTOM_BAND,
        title=f"{plain(heading.title)} ({heading.number})",
        author="MARAC coordination service",
        subject=subject,
        creator="marac",
        lang=LANGUAGE,
        displayDocTitle=1,
    )

    class Canvas(_PaperCanvas):
        pass

    Canvas.heading = heading
    opening = [
        _p(heading.title, "title"),
        _labelled("Protective marking:", heading.marking, "small"),
        _labelled("Recipient:", heading.recipient, "small"),
        _labelled("Document number:", heading.number, "small"),
        _labelled("Issued:", _day(heading.issued_on), "small"),
    ]
    if heading.meeting:
        opening.append(_labelled("Meeting:", heading.meeting, "small"))
    opening.append(
        _p(
            "Handle, store and destroy this document as its protective marking requires. Do "
            "not copy it or pass it on: it is numbered for its recipient, and recorded.",
            "small",
        )
    )
    opening.append(Spacer(1, 4 * mm))
    document.build(opening + story, canvasmaker=Canvas)
    return buffer.getvalue()


# --- tables ------------------------------------------------------------------------------------


CELL_SIZE = 8.5
CELL_LEADING = 10.5
CELL_PADDING = 3
# A row never grows taller than this many lines (well under a page): longer text carries on in
# the next row, so any row fits on a page and the table can always break between rows.
ROW_LINES = 40


def _longest_fit(word: str, width: float, font: str, size: float) -> int:
    """How many leading characters of ``word`` fit in ``width`` (at least one)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(word[:middle], font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return low


_wrapped: ContextVar[dict[tuple[str, float, str, float], list[str]] | None] = ContextVar(
    "_wrapped", default=None
)


@contextmanager
def shared_layout() -> Iterator[None]:
    """While open, text wrapped for one document is reused by the next: a meeting's copies
    repeat most of their text. The lines are dropped when it closes, not kept in the process."""
    token = _wrapped.set({})
    try:
        yield
    finally:
        _wrapped.reset(token)


def wrap(text: str | None, width: float, font: str = FONT, size: float = CELL_SIZE) -> list[str]:
    """A data value broken into lines that fit ``width``: at spaces, and inside a word longer
    than a line. Table cells are plain strings, never parsed as markup."""
    cache = _wrapped.get()
    if cache is None:
        return _wrap(text, width, font, size)
    key = (text or "", width, font, size)
    lines = cache.get(key)
    if lines is None:
        lines = cache[key] = _wrap(text, width, font, size)
    return list(lines)


def _wrap(text: str | None, width: float, font: str, size: float) -> list[str]:
    space = pdfmetrics.stringWidth(" ", font, size)
    lines: list[str] = []
    for part in _LINE_BREAKS.split(plain(text)):
        if pdfmetrics.stringWidth(part, font, size) <= width:
            # Most values fit their cell whole: one measurement, not one per word.
            lines.append(part)
            continue
        line, used = "", 0.0
        for word in part.split(" "):
            word_width = pdfmetrics.stringWidth(word, font, size)
            if line and used + space + word_width <= width:
                line, used = f"{line} {word}", used + space + word_width
                continue
            if not line and word_width <= width:
                line, used = word, word_width
                continue
            if line:
                lines.append(line)
            while word_width > width and len(word) > 1:
                cut = _longest_fit(word, width, font, size)
                lines.append(word[:cut])
                word = word[cut:]
                word_width = pdfmetrics.stringWidth(word, font, size)
            line, used = word, word_width
        lines.append(line)
    return lines


class _Table(Table):
    """Draws each plain-string cell as one text object rather than a text object per line (the
    label and value pairs at the head of a document)."""

    def _drawCell(self, cellval: Any, cellstyle: Any, pos: Any, size: Any) -> None:  # noqa: N802
        if not isinstance(cellval, str):
            return super()._drawCell(cellval, cellstyle, pos, size)
        if not cellval:
            return None
        colpos, rowpos = pos
        _width, rowheight = size
        text = self.canv.beginText(
            colpos + cellstyle.leftPadding,
            rowpos + rowheight - cellstyle.topPadding - cellstyle.fontsize,
        )
        text.setFillColor(cellstyle.color)
        text.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
        text.textLines(cellval, trim=0)
        self.canv.drawText(text)
        return None


@dataclass(frozen=True)
class Group:
    """A row of a table that names the group of rows below it (an agency), across every column."""

    label: str


@dataclass(frozen=True)
class _Row:
    # The wrapped lines of each cell; a group row has one cell across the table.
    cells: tuple[tuple[str, ...], ...]
    height: float
    group: bool = False


TOP_PADDING = 2
BOTTOM_PADDING = 2.5
HEADING_GREY = colors.Color(0.88, 0.88, 0.88)


class _Grid(Flowable):
    """A ruled table of plain text, laid out here rather than by reportlab's ``Table``.

    Every cell is already wrapped, so a row's height is its longest cell's lines; the table
    breaks between rows, repeats its heading row on each page, and never leaves a group's
    heading alone at the foot of a page. All its text is one text object and all its rules one
    path: the same page as a ``Table``, at a fraction of the cost for a meeting's hundreds of
    rows."""

    def __init__(self, widths: Sequence[float], heading: _Row, rows: Sequence[_Row]) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.heading = heading
        self.rows = tuple(rows)
        self.width = sum(self.widths)
        self.height = heading.height + sum(row.height for row in self.rows)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        room = availHeight - self.heading.height
        fit = 0
        for row in self.rows:
            if row.height > room:
                break
            room -= row.height
            fit += 1
        while fit and self.rows[fit - 1].group:
            fit -= 1
        if fit == 0 or fit >= len(self.rows):
            return []
        return [
            _Grid(self.widths, self.heading, self.rows[:fit]),
            _Grid(self.widths, self.heading, self.rows[fit:]),
        ]

    def draw(self) -> None:
        canv = self.canv
        top = self.height
        canv.setFillColor(HEADING_GREY)
        canv.rect(0, top - self.heading.height, self.width, self.heading.height, stroke=0, fill=1)
        text = canv.beginText()
        text.setFillColor(colors.black)
        path = canv.beginPath()
        path.moveTo(0, top)
        path.lineTo(self.width, top)
        edges = [sum(self.widths[:i]) for i in range(1, len(self.widths))]
        y = top
        font = None
        for row in (self.heading, *self.rows):
            bold = row.group or row is self.heading
            wanted = FONT_BOLD if bold else FONT
            if wanted != font:
                # Only on a change: setting it again makes the next line select its subset anew.
                text.setFont(wanted, CELL_SIZE, CELL_LEADING)
                font = wanted
            x = 0.0
            for width, lines in zip(self.widths, row.cells, strict=False):
                if lines:
                    text.setTextOrigin(x + CELL_PADDING, y - TOP_PADDING - CELL_SIZE)
                    _text_lines(text, lines)
                x += width
            bottom = y - row.height
            if not row.group:
                for edge in edges:
                    path.moveTo(edge, y)
                    path.lineTo(edge, bottom)
            path.moveTo(0, bottom)
            path.lineTo(self.width, bottom)
            y = bottom
        path.moveTo(0, top)
        path.lineTo(0, 0)
        path.moveTo(self.width, top)
        path.lineTo(self.width, 0)
        canv.drawText(text)
        canv.setStrokeColor(colors.black)
        canv.setLineWidth(0.5)
        canv.drawPath(path, stroke=1, fill=0)


def _text_lines(text: Any, lines: Iterable[str]) -> None:
    """``textLine`` for each line, except that a line of printable ASCII, once the font's first
    subset is selected, is written as ``textLine`` would write it without its bookkeeping per
    line: half the time of drawing a meeting's tables. Falls back whole to ``textLine`` if
    reportlab's text object changes shape."""
    code = getattr(text, "_code", None)
    if not isinstance(code, list) or not hasattr(text, "_curSubset"):
        for line in lines:
            text.textLine(line)
        return
    escape = text._canvas._escape
    for line in lines:
        if line and text._curSubset == 0 and line.isascii() and line.isprintable():
            code.append(f"({escape(line)}) Tj T*")
        else:
            text.textLine(line)


def _row(cells: Sequence[Sequence[str]], group: bool = False) -> _Row:
    lines = max(1, *(len(c) for c in cells)) if cells else 1
    return _Row(
        tuple(tuple(c) for c in cells),
        lines * CELL_LEADING + TOP_PADDING + BOTTOM_PADDING,
        group,
    )


def _table(
    headings: Sequence[str],
    rows: Iterable[Sequence[str | None] | Group],
    widths: Sequence[float],
) -> Flowable:
    """A table whose heading row repeats on every page it runs onto; cells wrap; a ``Group``
    row names the rows below it across the whole width.

    Cells are plain strings wrapped here (reportlab draws them as they are, with no markup).
    """
    _fonts()
    total = sum(widths)
    col_widths = [BODY_WIDTH * w / total for w in widths]
    inner = [w - 2 * CELL_PADDING for w in col_widths]
    heading = _row([wrap(h, inner[i], FONT_BOLD) for i, h in enumerate(headings)])
    laid: list[_Row] = []
    for row in rows:
        if isinstance(row, Group):
            lines = wrap(row.label, BODY_WIDTH - 2 * CELL_PADDING, FONT_BOLD)
            laid.append(_row([lines], group=True))
            continue
        cells = [wrap(cell, inner[i]) for i, cell in enumerate(row)]
        pieces = max(1, *(-(-len(lines) // ROW_LINES) for lines in cells))
        for k in range(pieces):
            laid.append(_row([lines[k * ROW_LINES : (k + 1) * ROW_LINES] for lines in cells]))
    return _Grid(col_widths, heading, laid)


def _identifiers(people: Sequence[Identifier]) -> str:
    parts = []
    for person in people:
        text = f"{person.label} ({person.role_label}"
        if person.date_of_birth:
            text += f", born {_day(person.date_of_birth)}"
        parts.append(text + ")")
    return "; ".join(parts)


def action_rows(actions: Sequence[PresentedAction]) -> list[list[str | None]]:
    """An action in full, or only as the policy's wording "Action for <agency> (due <date>)"."""
    rows: list[list[str | None]] = []
    for a in actions:
        if a.full:
            owner = a.owner_agency + (f": {a.owner_user}" if a.owner_user else "")
            rows.append([a.text, owner, a.subject_label, _day(a.due_on), a.status_label])
        else:
            rows.append([a.summary, a.owner_agency, "", _day(a.due_on), a.status_label])
    return rows


ACTION_HEADINGS = ("Action", "Owner", "About", "Due", "Status")
ACTION_WIDTHS = (40, 20, 14, 14, 12)


def _actions_table(actions: Sequence[PresentedAction]) -> Any:
    if not actions:
        return _p("No actions you may see.")
    return _table(ACTION_HEADINGS, action_rows(actions), ACTION_WIDTHS)


# --- the minutes and action plan ---------------------------------------------------------------


def _case_heading(title: str, identifiers: str) -> list[Flowable]:
    """A case's heading and who it is about, kept on the page its first section starts on."""
    return [CondPageBreak(CASE_ROOM), KeepTogether([_p(title, "h1"), _p(identifiers)])]


def _case_story(case: PresentedAgendaCase) -> list[Any]:
    story: list[Any] = _case_heading(
        f"{case.position}. {case.reference}", _identifiers(case.people)
    )
    story.extend(_section("Reason for referral"))
    if case.referral:
        met = [f"{c.label}: {c.reason}" for c in case.referral.criteria if c.met]
        story.append(
            _p(("Eligible. " if case.referral.eligible else "Not eligible. ") + " ".join(met))
        )
    else:
        story.append(_p(case.referral_note))
    if case.voice is not None:
        story.extend(_section("The victim's voice"))
        voice = case.voice
        if not voice.recorded:
            story.append(_p("Not yet recorded by her worker."))
        else:
            if voice.views:
                story.append(_labelled("Her views:", voice.views))
            if voice.wishes:
                story.append(_labelled("Her wishes:", voice.wishes))
            story.append(
                _labelled(
                    "She agrees may be shared:",
                    voice.may_share or "Nothing beyond that her views are recorded.",
                )
            )
            story.append(
                _labelled("Recorded by:", f"{voice.recorded_by}, {_day(voice.recorded_on)}")
            )
            if voice.note:
                story.append(_p(voice.note, "note"))
    story.extend(_section("Information from each agency"))
    rows: list[list[str | None] | Group] = []
    for agency, items in case.items_by_agency:
        rows.append(Group(agency))
        rows.extend(
            [
                item.about_label,
                item.text,
                f"{item.nature_label}; {item.source_label}; {item.classification_label}",
            ]
            for item in items
        )
    if rows:
        story.append(_table(("About", "Information", "Kind"), rows, (16, 58, 26)))
    else:
        story.append(_p("No information you may read has been recorded."))
    for line in case.summaries:
        story.append(_p(line, "note"))
    story.extend(_section("Summary of risks"))
    if case.risk_summary:
        story.append(_p(case.risk_summary))
    elif case.risk_summary_note:
        story.append(_p(case.risk_summary_note, "note"))
    else:
        story.append(_p("Not yet written."))
    if case.review_next:
        story.append(_p("To be reviewed at the next meeting."))
    story.extend(_section("Actions agreed"))
    story.append(_actions_table(case.actions))
    if case.crimes is not None:
        story.extend(_section("Crimes disclosed (for the police)"))
        if case.crimes:
            for crime in case.crimes:
                story.append(
                    _p(f"{crime.description} ({crime.agency}, {_moment(crime.recorded_at)})")
                )
        else:
            story.append(_p("None recorded."))
    elif case.crime_count:
        plural = (
            "crimes disclosed at this meeting are"
            if case.crime_count != 1
            else "crime disclosed at this meeting is"
        )
        story.append(_p(f"{case.crime_count} {plural} recorded for the police.", "note"))
    return story


def minutes_pdf(heading: PaperHeading, minutes: PresentedMinutes) -> bytes:
    """The minutes and action plan of one meeting, as one reader may read them."""
    story: list[Any] = []
    if minutes.approved_by:
        story.append(_p(f"Approved by {minutes.approved_by} on {_moment(minutes.approved_at)}."))
    story.append(_p("Attendance", "h1"))
    if minutes.attendees:
        story.append(
            _table(
                ("Name", "Agency", "As", "Accepted the confidentiality statement"),
                [
                    [a.name, a.agency, a.kind.label, _moment(a.accepted_at)]
                    for a in minutes.attendees
                ],
                (26, 32, 18, 24),
            )
        )
    else:
        story.append(_p("No attendance was recorded."))
    story.append(
        _p("Apologies: " + (", ".join(minutes.apologies) if minutes.apologies else "none") + ".")
    )
    if minutes.to_review:
        story.append(_p("Cases to review at the next meeting", "h1"))
        story.append(_p(", ".join(minutes.to_review)))
    for case in minutes.cases:
        story.extend(_case_story(case))
    if minutes.moved:
        story.append(_p("Moved to a later meeting", "h1"))
        for row in minutes.moved:
            story.append(_p(f"{row.reference}: {row.moved_to or ''}"))
    if minutes.not_open:
        n = minutes.not_open
        story.append(
            _p(
                f"{n} other case{'s were' if n != 1 else ' was'} heard that you may not open.",
                "note",
            )
        )
    if not minutes.cases:
        story.append(_p("No case heard at this meeting is open to you.", "note"))
    return _build(heading, story, "Minutes and action plan")


# --- the agenda --------------------------------------------------------------------------------


def agenda_pdf(heading: PaperHeading, agenda: PresentedAgenda) -> bytes:
    """Who is to be discussed: identifiers only (reference, names, roles, dates of birth)."""
    rows: list[AgendaRow] = [r for r in agenda.rows]
    story: list[Any] = [_p("Cases to be discussed", "h1")]
    if rows:
        story.append(
            _table(
                ("No.", "Case", "People", "Status"),
                [
                    [str(r.position), r.reference, _identifiers(r.people), r.status_label]
                    for r in rows
                ],
                (7, 17, 58, 18),
            )
        )
    else:
        story.append(_p("No case on this agenda is open to you."))
    if agenda.not_open:
        n = agenda.not_open
        story.append(
            _p(
                f"{n} other case{'s are' if n != 1 else ' is'} listed that you may not open.",
                "note",
            )
        )
    return _build(heading, story, "Agenda")


# --- one case's action plan --------------------------------------------------------------------


def action_plan_pdf(heading: PaperHeading, plan: PresentedActionPlan) -> bytes:
    story: list[Any] = [
        _p(f"Case {plan.case_reference}", "h1"),
        _p(_identifiers(plan.people)),
        _p("Actions", "h2"),
        _actions_table(plan.actions),
    ]
    return _build(heading, story, "Action plan")
