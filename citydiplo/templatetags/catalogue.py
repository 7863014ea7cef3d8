"""Template helpers shared by every page of the catalogue."""

import html as html_module

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from citydiplo import records

register = template.Library()

FACET_CHOICE = (
    '<li><a href="{}"><span class="facet-label">{}</span> '
    '<span class="facet-count">{}</span></a></li>'
)
SELECTED_FACET_CHOICE = (
    '<li class="selected"><a href="{}" aria-current="true" title="Remove this filter">'
    '<span class="facet-label"><span aria-hidden="true">✓ </span>{}</span> '
    '<span class="facet-count">{}</span></a></li>'
)


def escape(text):
    """`conditional_escape(text)` for the hundreds of strings of a facet, without the
    checks for lazy strings that cost more than escaping (the same HTML, as a test
    checks)."""
    if hasattr(text, "__html__"):
        return text.__html__()
    return html_module.escape(str(text))


@register.filter
def public(record):
    """`{% with hq=network.headquarters|public %}`: the record, or None for a draft."""
    return records.public(record)


@register.simple_tag
def status(value, label):
    """`{% status twinning.status twinning.get_status_display %}`: a status as a tag."""
    return format_html('<span class="status status-{}">{}</span>', value, label)


@register.simple_tag
def facet_choices(choices):
    """`{% facet_choices facet.top %}`: a facet's choices as <li> links with counts.

    A list page shows hundreds of choices; built here in one call, they cost a fraction
    of an `{% include %}` per choice.
    """
    counts = {}  # most counts repeat (1, 2, 3...), and grouping digits is not free
    html = []
    for choice in choices:
        count = choice.count
        if count not in counts:
            # Below 1,000 no language groups digits: intcomma would give str(count).
            small = type(count) is int and 0 <= count < 1000
            counts[count] = str(count) if small else conditional_escape(intcomma(count))
        html.append(
            (SELECTED_FACET_CHOICE if choice.selected else FACET_CHOICE).format(
                escape(choice.url), escape(choice.label), counts[count]
            )
        )
    return mark_safe("".join(html))
