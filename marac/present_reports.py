"""The dashboard's figures as charts, each with the same figures as a table and in words."""

from __future__ import annotations

from dataclasses import dataclass

from marac.charts import Bar, Chart, draw
from marac.reporting import (
    CASES_PER_IDVA_A_YEAR,
    NATIONAL_REPEAT_RANGE,
    RECOMMENDED_CASES_PER_10000_WOMEN,
    Dashboard,
)


@dataclass(frozen=True)
class ChartPanel:
    key: str
    title: str
    # The sentence that says what the chart shows, for everyone.
    summary: str
    svg: object | None
    # The data table alternative: column headings and rows of text.
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # What is missing (a setting not made yet), instead of a chart.
    missing: str | None = None


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _one(value: float) -> str:
    return f"{value:.1f}"


def dashboard_charts(d: Dashboard) -> list[ChartPanel]:
    return [
        _volume(d),
        _repeats(d),
        _referrers(d),
        _cases_per_meeting(d),
        _minutes_per_case(d),
        _actions(d, "completed", lambda a: a.completion_rate, "done"),
        _actions(d, "overdue", lambda a: a.overdue_rate, "overdue"),
        _idva(d),
    ]


def _volume(d: Dashboard) -> ChartPanel:
    title = "Cases heard per 10,000 adult women in a year"
    rate = d.cases_per_10000_women
    if rate is None:
        return ChartPanel(
            "volume",
            title,
            "",
            None,
            (),
            (),
            missing="Set the area's adult female population to see this.",
        )
    recommended = RECOMMENDED_CASES_PER_10000_WOMEN
    summary = (
        f"{d.cases_heard} cases heard for {d.adult_female_population:,} women aged 16 and over: "
        f"{_one(rate)} per 10,000, against the recommended {recommended}."
    )
    chart = Chart(
        "volume",
        title,
        summary,
        (Bar("This area", rate, _one(rate)),),
        reference=(recommended, f"Recommended: {recommended}"),
    )
    return ChartPanel(
        "volume",
        title,
        summary,
        draw(chart),
        ("Measure", "Value"),
        (
            ("Cases heard", str(d.cases_heard)),
            ("Women aged 16 and over", f"{d.adult_female_population:,}"),
            ("Cases per 10,000 women", _one(rate)),
            ("Recommended", str(recommended)),
        ),
    )


def _repeats(d: Dashboard) -> ChartPanel:
    title = "Repeat cases, as a share of cases heard"
    low, high = NATIONAL_REPEAT_RANGE
    rate = d.repeat_rate
    if rate is None:
        return ChartPanel("repeats", title, "", None, (), (), missing="No cases heard yet.")
    summary = (
        f"{d.repeat_cases} of {d.cases_heard} cases heard were repeats: {_pct(rate)}, against "
        f"an observed national range of {low}% to {high}%."
    )
    chart = Chart(
        "repeats",
        title,
        summary,
        (Bar("This area", rate, _pct(rate)),),
        band=(low, high, f"National range: {low}% to {high}%"),
        maximum=100,
    )
    return ChartPanel(
        "repeats",
        title,
        summary,
        draw(chart),
        ("Measure", "Value"),
        (
            ("Repeat cases", str(d.repeat_cases)),
            ("Cases heard", str(d.cases_heard)),
            ("Repeat rate", _pct(rate)),
            ("National range", f"{low}% to {high}%"),
        ),
    )


def _referrers(d: Dashboard) -> ChartPanel:
    title = "Cases referred by agencies other than the police"
    share = d.non_police_share
    if share is None:
        return ChartPanel("referrers", title, "", None, (), (), missing="No cases heard yet.")
    others = d.cases_heard - d.police_cases
    summary = (
        f"{others} of {d.cases_heard} cases heard ({_pct(share)}) were referred by agencies "
        f"other than the police; {d.police_cases} by the police."
    )
    chart = Chart(
        "referrers",
        title,
        summary,
        (
            Bar("Other agencies", share, f"{_pct(share)} ({others})"),
            Bar("Police", 100 - share, f"{_pct(100 - share)} ({d.police_cases})"),
        ),
        maximum=100,
    )
    return ChartPanel(
        "referrers",
        title,
        summary,
        draw(chart),
        ("Referred by", "Cases", "Share"),
        (
            ("Other agencies", str(others), _pct(share)),
            ("Police", str(d.police_cases), _pct(100 - share)),
        ),
    )


def _cases_per_meeting(d: Dashboard) -> ChartPanel:
    title = "Cases heard at each meeting"
    if not d.meetings:
        return ChartPanel("meetings", title, "", None, (), (), missing="No meetings closed yet.")
    average = sum(m.cases_heard for m in d.meetings) / len(d.meetings)
    summary = f"{len(d.meetings)} meetings heard {_one(average)} cases each on average."
    bars = tuple(
        Bar(f"{m.held_on.day} {m.held_on:%b %Y}", m.cases_heard, str(m.cases_heard))
        for m in d.meetings
    )
    return ChartPanel(
        "meetings",
        title,
        summary,
        draw(Chart("meetings", title, summary, bars)),
        ("Meeting", "Cases heard"),
        tuple((b.label, b.text) for b in bars),
    )


def _minutes_per_case(d: Dashboard) -> ChartPanel:
    title = "Minutes per case against the time allowed"
    timed = [m for m in d.meetings if m.minutes_per_case is not None]
    if not timed:
        return ChartPanel(
            "minutes", title, "", None, (), (), missing="No meeting has recorded its times yet."
        )
    allowed = {m.minutes_allowed for m in timed}
    over = sum(m.minutes_per_case > m.minutes_allowed for m in timed)
    summary = f"{over} of {len(timed)} meetings took longer per case than the time they allowed."
    bars = tuple(
        Bar(
            f"{m.held_on.day} {m.held_on:%b %Y}",
            m.minutes_per_case,
            f"{_one(m.minutes_per_case)} min (allowed {m.minutes_allowed})",
        )
        for m in timed
    )
    reference = None
    if len(allowed) == 1:
        only = allowed.pop()
        reference = (only, f"Allowed: {only} min")
    return ChartPanel(
        "minutes",
        title,
        summary,
        draw(Chart("minutes", title, summary, bars, reference=reference)),
        ("Meeting", "Minutes per case", "Minutes allowed"),
        tuple(
            (b.label, _one(m.minutes_per_case), str(m.minutes_allowed))
            for b, m in zip(bars, timed, strict=True)
        ),
    )


def _actions(d: Dashboard, word: str, rate, counted: str) -> ChartPanel:  # noqa: ANN001
    key = f"actions-{word}"
    title = f"Actions {word}, by agency (actions due in the year)"
    if not d.agencies:
        return ChartPanel(key, title, "", None, (), (), missing="No actions were due this year.")
    bars = tuple(
        Bar(a.agency_name, rate(a), f"{_pct(rate(a))} ({getattr(a, counted)} of {a.due})")
        for a in d.agencies
    )
    summary = "; ".join(f"{b.label}: {b.text}" for b in bars) + "."
    return ChartPanel(
        key,
        title,
        summary,
        draw(Chart(key, title, summary, bars, maximum=100)),
        ("Agency", "Actions due", f"Actions {word}", "Share"),
        tuple(
            (a.agency_name, str(a.due), str(getattr(a, counted)), _pct(rate(a))) for a in d.agencies
        ),
    )


def _idva(d: Dashboard) -> ChartPanel:
    title = "IDVA caseload: people supported in a year per full-time IDVA"
    per_idva = d.cases_per_idva
    if per_idva is None:
        return ChartPanel(
            "idva",
            title,
            "",
            None,
            (),
            (),
            missing="Set the number of full-time-equivalent IDVAs in the area to see this.",
        )
    summary = (
        f"{d.idva_supported} people had IDVA support in the year, with {d.idva_fte:g} "
        f"full-time-equivalent IDVAs: {_one(per_idva)} each, against about "
        f"{CASES_PER_IDVA_A_YEAR} a year."
    )
    chart = Chart(
        "idva",
        title,
        summary,
        (Bar("Per full-time IDVA", per_idva, _one(per_idva)),),
        reference=(CASES_PER_IDVA_A_YEAR, f"About {CASES_PER_IDVA_A_YEAR} a year"),
    )
    return ChartPanel(
        "idva",
        title,
        summary,
        draw(chart),
        ("Measure", "Value"),
        (
            ("People supported by IDVAs", str(d.idva_supported)),
            ("Full-time-equivalent IDVAs", f"{d.idva_fte:g}"),
            ("People per full-time IDVA", _one(per_idva)),
            ("Recommended caseload", f"About {CASES_PER_IDVA_A_YEAR}"),
        ),
    )
