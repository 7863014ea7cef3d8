"""The repeated parts of the SVG charts, written in Python.

A timeline has a bar per twinning or network; through the template engine each bar's
dozen values cost more than the rest of a city page. The markup stays what
templates/includes/_timeline_chart.html around it expects.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def timeline_desc(chart):
    """Each span as a sentence, for the chart's <desc>: ' Lyon: from 1956 to 1990.'"""
    return format_html_join(
        "",
        " {}: from {}{}.",
        (
            (span.label, span.start, format_html(" to {}", span.end) if span.end else "")
            for span in chart.spans
        ),
    )


@register.simple_tag
def timeline_ticks(chart):
    """A line and a year label per tick of the time axis."""
    return format_html_join(
        "\n",
        '<g class="chart-tick"><line x1="{0}" x2="{0}" y1="0" y2="{1}"/>'
        '<text x="{0}" y="{2}" text-anchor="middle">{3}</text></g>',
        ((x, chart.axis_y, chart.tick_label_y, year) for year, x in chart.ticks),
    )


@register.simple_tag
def timeline_spans(chart):
    """A linked bar and label per span."""
    return format_html_join(
        "\n",
        '<a href="{}" class="chart-span chart-span-{}">'
        '<rect x="{}" y="{}" width="{}" height="7" rx="3"/>'
        '<text x="{}" y="{}"{}>{} ({}{})</text></a>',
        (
            (
                span.url,
                span.state,
                span.x1,
                span.bar_y,
                span.width,
                span.label_x,
                span.text_y,
                mark_safe(' text-anchor="end"') if span.label_on_left else "",
                span.label,
                span.start,
                format_html("–{}", span.end) if span.end else "",
            )
            for span in chart.spans
        ),
    )
