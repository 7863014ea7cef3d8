"""Template helpers shared by every page of the catalogue."""

from django import template
from django.utils.html import format_html

from citydiplo import records

register = template.Library()


@register.filter
def public(record):
    """`{% with hq=network.headquarters|public %}`: the record, or None for a draft."""
    return records.public(record)


@register.simple_tag
def status(value, label):
    """`{% status twinning.status twinning.get_status_display %}`: a status as a tag."""
    return format_html('<span class="status status-{}">{}</span>', value, label)
