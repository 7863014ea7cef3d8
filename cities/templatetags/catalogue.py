"""Template helpers shared by every page of the catalogue."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cities import records

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
    return mark_safe(
        "".join(
            format_html(
                SELECTED_FACET_CHOICE if choice.selected else FACET_CHOICE,
                choice.url,
                choice.label,
                intcomma(choice.count),
            )
            for choice in choices
        )
    )
