"""Geometry for the small server-rendered SVG charts (no JavaScript needed).

Each function returns plain data (sizes, positions, labels); the templates under
`templates/includes/_*_chart.html` turn it into SVG with <title>, <desc> and text labels,
so the charts read without scripts, print well and pass a strict CSP.
"""

from dataclasses import dataclass, field

from django.utils import timezone

WIDTH = 640  # viewBox units of the bar charts; the SVG scales to its container
TIMELINE_WIDTH = 800


@dataclass(frozen=True)
class Coverage:
    """How many of the records a chart built on dates could date: a chart says it
    visibly ("dated: 1,530 of 24,300 twinnings"), since the undated ones are missing
    from it without a trace."""

    dated: int
    total: int
    noun: str

    def __str__(self):
        return f"dated: {self.dated:,} of {self.total:,} {self.noun}"


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    show_label: bool = True

    @property
    def centre(self):
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self):
        return round(self.y - 5, 1)


@dataclass
class BarChart:
    title: str
    desc: str
    bars: list
    width: int = WIDTH
    height: int = 0
    baseline: float = 0
    max_value: int = 0
    coverage: Coverage | None = None

    def __bool__(self):
        return bool(self.bars)

    @property
    def label_y(self):
        return self.baseline + 18


def bar_chart(counts, *, title, desc, height=220, coverage=None):
    """Vertical bars from (label, count) pairs, in the order given.

    `coverage`: for a chart built on dates, a Coverage of the records it could date.
    """
    counts = [(str(label), int(value)) for label, value in counts]
    top, bottom, side = 24, 36, 8
    chart = BarChart(title=title, desc=desc, bars=[], height=height, coverage=coverage)
    if not counts:
        return chart
    chart.max_value = max(value for _label, value in counts) or 1
    chart.baseline = height - bottom
    slot = (WIDTH - 2 * side) / len(counts)
    bar_width = min(max(slot * 0.7, 2), 72)
    label_every = -(-len(counts) // 12)  # at most about 12 axis labels fit
    for index, (label, value) in enumerate(counts):
        bar_height = (height - top - bottom) * value / chart.max_value
        chart.bars.append(
            Bar(
                label=label,
                value=value,
                x=round(side + index * slot + (slot - bar_width) / 2, 1),
                y=round(chart.baseline - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                show_label=index % label_every == 0,
            )
        )
    return chart


@dataclass
class Span:
    label: str
    start: int
    end: int | None
    state: str
    url: str
    y: float = 0
    x1: float = 0
    x2: float = 0

    @property
    def width(self):
        return round(self.x2 - self.x1, 1)

    @property
    def bar_y(self):
        return self.y + 15

    @property
    def text_y(self):
        return self.y + 12

    @property
    def label_on_left(self):
        """Late spans end their label at the bar's end so it stays inside the chart."""
        return self.x1 > TIMELINE_WIDTH * 0.5

    @property
    def label_x(self):
        return self.x2 if self.label_on_left else self.x1


@dataclass
class Timeline:
    title: str
    desc: str
    spans: list
    ticks: list = field(default_factory=list)
    width: int = TIMELINE_WIDTH
    height: int = 0
    axis_y: float = 0
    coverage: Coverage | None = None

    def __bool__(self):
        return bool(self.spans)

    @property
    def tick_label_y(self):
        return self.axis_y + 16


def timeline(items, *, title, desc, row_height=25, noun=None, total=None):
    """One row per (label, start_year, end_year or None, state, url), left to right by year.

    Items without a start year are left out (the caller lists them elsewhere); an open
    span runs to this year. Ticks fall on round decades. With `noun` ("twinnings"), the
    chart says how many of the items (or of `total`, when more were left out before)
    it could date.
    """
    items = list(items)
    dated = sorted((item for item in items if item[1]), key=lambda item: (item[1], item[0]))
    coverage = None
    if noun:
        coverage = Coverage(len(dated), len(items) if total is None else total, noun)
    items = dated
    chart = Timeline(title=title, desc=desc, spans=[], coverage=coverage)
    if not items:
        return chart
    this_year = timezone.localdate().year
    first = min(item[1] for item in items) // 10 * 10
    last = max(max(item[2] or this_year, item[1]) for item in items)
    last = max(last, this_year)
    span_years = max(last - first, 1)
    left, right, top = 24, 24, 8
    usable = TIMELINE_WIDTH - left - right

    def x_of(year):
        return round(left + usable * (year - first) / span_years, 1)

    for index, (label, start, end, state, url) in enumerate(items):
        chart.spans.append(
            Span(
                label=str(label),
                start=start,
                end=end,
                state=state,
                url=url,
                y=top + index * row_height,
                x1=x_of(start),
                x2=max(x_of(end or this_year), x_of(start) + 3),
            )
        )
    chart.axis_y = top + len(items) * row_height + 4
    chart.height = chart.axis_y + 24
    step = 10 if span_years <= 80 else 20 if span_years <= 160 else 50
    year = first
    while year <= last:
        chart.ticks.append((year, x_of(year)))
        year += step
    return chart
