"""Template helpers shared by every page of the catalogue."""

from django import template

from cities import records

register = template.Library()


@register.filter
def public(record):
    """`{% with hq=network.headquarters|public %}`: the record, or None for a draft."""
    return records.public(record)
