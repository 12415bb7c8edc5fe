"""Charts as server-rendered SVG from pygal, inlined in the page under the strict CSP.

pygal puts a ``<style>`` and a ``<script>`` (its config, plus tooltips from a CDN) in every
SVG; the CSP allows neither inline. ``js=[]`` drops the CDN script and :func:`_csp_safe`
removes the rest, so the SVG carries no script and no style element: colours and patterns
become ``fill`` attributes (presentation attributes, which no CSP restricts), and fonts,
axes and backgrounds come from ``static/css/charts.css``.

Each chart is a picture of a table the page also shows (the text alternative), so the SVG
is ``aria-hidden`` and its links are left out of the tab order: keyboard and screen reader
users follow the same links in the table. Series differ by pattern as well as colour, and
single-series charts print their values on the bars.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil
from xml.etree.ElementTree import Element, SubElement

import pygal
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from overview.selectors import SOURCES, Bar, Day, UploadOutcome

# pygal takes 10-180 ms a chart: the same numbers are drawn once in this many seconds (the
# uploads' charts; the snapshot's are drawn by the background worker and stored with it).
CHART_TTL = 600
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
TEXT_COLOUR = "#212529"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
# Only the sizes matter: pygal measures labels with them to lay the chart out. The colours
# and fonts the browser uses are in static/css/charts.css.
STYLE = Style(
    font_family=FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
    title_font_size=14,
    colors=(TEXT_COLOUR,),
)
# White marks drawn over the series colour; every colour is at least 4.5:1 against white, so
# both the bar against the page and the marks against the bar stand out.
PATTERN_MARKS = {
    "solid": "",
    "stripes": '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" stroke-width="1.6"/>',
    "dots": '<circle cx="4" cy="4" r="1.7" fill="#fff"/>',
    "cross": '<path d="M0,0 l8,8 M8,0 l-8,8" stroke="#fff" stroke-width="1.3"/>',
    "rows": '<path d="M0,4 h8" stroke="#fff" stroke-width="1.8"/>',
    "columns": '<path d="M4,0 v8" stroke="#fff" stroke-width="1.8"/>',
}


@dataclass(frozen=True, slots=True)
class Series:
    key: str
    label: str
    colour: str
    pattern: str


SOURCE_LOOK = {
    "web": ("#0b5ed7", "solid"),
    "api": ("#146c43", "stripes"),
    "upload": ("#a04500", "dots"),
    "admin": ("#6f42c1", "cross"),
    "system": ("#495057", "rows"),
    "not_recorded": ("#6c757d", "columns"),
}
SOURCE_SERIES = tuple(Series(key, label, *SOURCE_LOOK[key]) for key, label in SOURCES)
OUTCOME_SERIES = (
    Series("created", "Created", "#146c43", "solid"),
    Series("updated", "Updated", "#0b5ed7", "stripes"),
    Series("unchanged", "Unchanged", "#495057", "dots"),
    Series("skipped", "Skipped", "#a04500", "rows"),
    Series("failed", "Failed", "#b02a37", "cross"),
)
SINGLE = (Series("count", "Contacts", "#0b5ed7", "solid"),)


def _pattern_defs(prefix: str, series: Sequence[Series]) -> list[str]:
    return [
        f'<pattern id="{prefix}-{index}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{look.colour}"/>{PATTERN_MARKS[look.pattern]}'
        "</pattern>"
        for index, look in enumerate(series)
        if look.pattern != "solid"
    ]


def _fills(prefix: str, series: Sequence[Series]) -> list[str]:
    return [
        look.colour if look.pattern == "solid" else f"url(#{prefix}-{index})"
        for index, look in enumerate(series)
    ]


def _csp_safe(fills: list[str]) -> Callable[[Element], Element]:
    """An XML filter: no inline style or script, fills as attributes, links out of tab order."""

    def apply(root: Element) -> Element:
        for parent in root.iter():
            for child in list(parent):
                classes = child.get("class", "").split()
                if child.tag in ("style", "script") or "tooltip-overlay" in classes:
                    parent.remove(child)
        for element in root.iter():
            for name in element.get("class", "").split():
                if name.startswith("color-"):
                    element.set("fill", fills[int(name.removeprefix("color-")) % len(fills)])
            if element.tag == "a":
                _native_link(element)
        root.set("aria-hidden", "true")
        root.set("focusable", "false")
        return root

    return apply


def _native_link(link: Element) -> None:
    """An SVG link browsers follow and show a tooltip for, without pygal's script."""
    link.set("href", link.get(XLINK_HREF, ""))
    link.set("tabindex", "-1")
    link.attrib.pop("target", None)
    for desc in list(link):
        if desc.tag == "desc" and desc.get("class") == "label":
            SubElement(link, "title").text = desc.text
            link.remove(desc)


def _drawn_once(name: str, data: object, draw: Callable[[], SafeString]) -> SafeString:
    """The chart ``draw`` makes of ``data``, from the cache when it was drawn before."""
    key = "overview:svg:" + hashlib.sha256(f"{name}:{data!r}".encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        svg = str(draw())
        cache.set(key, svg, CHART_TTL)
    return mark_safe(svg)  # drawn by pygal, which escapes what it writes (see _render)


def _render(chart: pygal.graph.graph.Graph, prefix: str, series: Sequence[Series]) -> SafeString:
    chart.add_xml_filter(_csp_safe(_fills(prefix, series)))
    # pygal escapes every text and attribute it writes (tag names, file names included).
    return mark_safe(chart.render(is_unicode=True))


def _options(prefix: str, series: Sequence[Series], **options: object) -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "style": STYLE,
        "defs": _pattern_defs(prefix, series),
        "classes": ["pygal-chart", f"chart-{prefix}"],
        "margin": 8,
        "spacing": 6,
        "truncate_label": -1,
        "truncate_legend": -1,
        "value_formatter": _grouped,
        **options,
    }


def _grouped(number: float) -> str:
    return f"{number:,.0f}"


def _count_ticks(largest: int, most: int = 5) -> list[int]:
    """Whole-number axis ticks from 0 past ``largest``: counts have no 0.4 of a contact."""
    step = 1
    while largest / step > most:
        for factor in (2, 2.5, 2):  # 1, 2, 5, 10, 20, 50, ...
            step = int(step * factor)
            if largest / step <= most:
                break
    top = max(step, -(-largest // step) * step)
    return list(range(0, top + 1, step))


def _point(count: int, url: str | None, label: str) -> dict[str, object] | None:
    if not count:
        return None
    point: dict[str, object] = {"value": count, "label": label}
    if url:
        point["xlink"] = {"href": url}
    return point


def draw_per_day(days: Sequence[Day]) -> SafeString:
    """Contacts created per day, stacked by source; every segment opens its day's list.

    Not cached: the background worker draws it with each snapshot (``overview.snapshots``).
    """
    prefix = "per-day"
    chart = pygal.StackedBar(
        **_options(
            prefix,
            SOURCE_SERIES,
            width=960,
            height=320,
            legend_at_bottom=True,
            legend_at_bottom_columns=len(SOURCE_SERIES),
            show_minor_x_labels=False,
            x_labels_major_every=7,
            y_labels=_count_ticks(max((day.total for day in days), default=0)),
        )
    )
    chart.x_labels = [f"{day.day:%-d %b}" for day in days]
    for look in SOURCE_SERIES:
        chart.add(
            look.label,
            [
                _point(
                    day.by_source.get(look.key, 0),
                    day.url,
                    f"{day.day:%-d %b %Y}: {day.by_source.get(look.key, 0):,} by {look.label}"
                    f" of {day.total:,} that day (opens all {day.total:,})",
                )
                for day in days
            ],
        )
    return _render(chart, prefix, SOURCE_SERIES)


def ranked_chart(
    bars: Sequence[Bar], *, prefix: str, unit: str = "contact", width: int = 480
) -> SafeString:
    """One bar per row, largest on top, values printed on the bars.

    ``width`` is about the width it is shown at, so that its text comes out at 12px.
    """
    return _drawn_once(
        "ranked", (list(bars), prefix, unit, width), lambda: draw_ranked(bars, prefix, unit, width)
    )


def draw_ranked(
    bars: Sequence[Bar], prefix: str, unit: str = "contact", width: int = 480
) -> SafeString:
    """:func:`ranked_chart` drawn now, not cached (the snapshot's charts are stored with it)."""
    chart = pygal.HorizontalBar(
        **_options(
            prefix,
            SINGLE,
            width=width,
            height=30 * len(bars) + 40,
            show_legend=False,
            print_values=True,
            print_values_position="top",
            # Room after the longest bar for its printed value.
            y_labels=_count_ticks(ceil(1.2 * max((bar.count for bar in bars), default=0))),
        )
    )
    shown = list(reversed(bars))  # pygal draws the first label at the bottom
    chart.x_labels = [_short(bar.label) for bar in shown]
    chart.add(
        "Contacts",
        [_point(bar.count, bar.url, f"{bar.label}: {bar.count:,} {unit}s") for bar in shown],
    )
    return _render(chart, prefix, SINGLE)


def outcomes_chart(
    rows: Sequence[tuple[str, dict[str, tuple[int, str | None]]]], *, prefix: str
) -> SafeString:
    """Uploads' outcomes as stacked horizontal bars, one row per upload.

    ``rows`` holds ``(label, {outcome key: (count, url or None)})``, newest first.
    """
    return _drawn_once("outcomes", (list(rows), prefix), lambda: _draw_outcomes(rows, prefix))


def _draw_outcomes(
    rows: Sequence[tuple[str, dict[str, tuple[int, str | None]]]], prefix: str
) -> SafeString:
    chart = pygal.HorizontalStackedBar(
        **_options(
            prefix,
            OUTCOME_SERIES,
            width=960,
            height=34 * len(rows) + 90,
            legend_at_bottom=True,
            legend_at_bottom_columns=len(OUTCOME_SERIES),
            y_labels=_count_ticks(max((_row_total(o) for _, o in rows), default=0)),
        )
    )
    shown = list(reversed(rows))
    chart.x_labels = [_short(label) for label, _ in shown]
    for look in OUTCOME_SERIES:
        points = []
        for label, outcomes in shown:
            count, url = outcomes.get(look.key, (0, None))
            points.append(_point(count, url, f"{label}: {count:,} {look.label.lower()}"))
        chart.add(look.label, points)
    return _render(chart, prefix, OUTCOME_SERIES)


def upload_rows(
    outcomes: Sequence[UploadOutcome], error_report_url: Callable[[int], str | None]
) -> list[tuple[str, dict[str, tuple[int, str | None]]]]:
    """Each upload's outcome counts with the link each part opens (None: nothing to open).

    Created and updated open the list of contacts the upload touched (``?upload=``), which
    holds both; unchanged rows are not in it; skipped and failed rows are in the error report.
    """
    rows = []
    for outcome in outcomes:
        job = outcome.job
        report = error_report_url(job.pk)
        rows.append(
            (
                f"#{job.pk} {job.display_name}",
                {
                    "created": (job.rows_created, outcome.url),
                    "updated": (job.rows_updated, outcome.url),
                    "unchanged": (job.rows_unchanged, None),
                    "skipped": (job.rows_skipped, report),
                    "failed": (job.rows_failed, report),
                },
            )
        )
    return rows


def _row_total(outcomes: dict[str, tuple[int, str | None]]) -> int:
    return sum(count for count, _ in outcomes.values())


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else f"{label[: limit - 1]}…"
