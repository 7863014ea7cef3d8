"""What every catalogue record shares: a review state and timestamps.

Lives in `cities` because it is the app every other app already depends on.
"""

from django.db import models
from django.utils import timezone
from django.utils.text import smart_split
from simple_history.models import HistoricalRecords


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class DatePrecision(models.TextChoices):
    YEAR = "year", "Year"
    MONTH = "month", "Month"
    DAY = "day", "Day"


SEARCH_MAX_WORDS = 10


def query_words(q):
    """The words of a search, quoted phrases as one word, at most SEARCH_MAX_WORDS."""
    words = [word.strip("\"'") for word in smart_split(q or "") if word.strip("\"'")]
    return words[:SEARCH_MAX_WORDS]


def search_words(queryset, q, fields):
    """Rows where every word of `q` appears in one of `fields`, in any case.

    Quoted phrases count as one word; a blank `q` filters nothing. The list pages'
    `q` filter and the site search share this, so their counts agree.
    """
    for word in query_words(q):
        queryset = queryset.filter(words_condition(word, fields))
    return queryset


def words_condition(q, fields):
    """A Q: every word of `q` in one of `fields` (within one row: no join fans out)."""
    condition = models.Q()
    for word in query_words(q):
        any_field = models.Q()
        for field in fields:
            if isinstance(field, tuple):  # (lookup, the condition it counts under)
                lookup, only_if = field
                any_field |= models.Q(**{f"{lookup}__icontains": word}) & only_if
                continue
            any_field |= models.Q(**{f"{field}__icontains": word})
        condition &= any_field
    return condition


class CatalogueQuerySet(models.QuerySet):
    def published(self):
        return self.filter(review_state=ReviewState.PUBLISHED)


class Versioned(models.Model):
    """A record with a version number, raised by every save, so that a form opened on
    version 3 can tell it is saving over someone else's version 4 (the admin refuses
    such a save: citydiplo/admin.py, CatalogueForm)."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        written = self.prepare_save()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *written}
        super().save(*args, **kwargs)

    def prepare_save(self):
        """Set the columns every save sets itself; return their names.

        save() calls it; so do writes that skip save() (the admin's bulk imports,
        activities/resources.py), so that the rule lives in one place. Subclasses add
        their own columns and call super().
        """
        if self._state.adding:
            return set()
        self.version = (self.version or 0) + 1
        return {"version"}


class CatalogueRecord(Versioned):
    """Abstract base of cities, networks, memberships, agreements, twinnings, activities."""

    review_state = models.CharField(
        max_length=10,
        choices=ReviewState.choices,
        default=ReviewState.PUBLISHED,
        db_index=True,
        help_text="Only published records appear on public pages, exports and counts.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def prepare_save(self):
        # Not auto_now: fixtures load with their own timestamps, so reloading them
        # changes nothing.
        self.updated_at = timezone.now()
        return {*super().prepare_save(), "updated_at"}

    @property
    def is_published(self):
        return self.review_state == ReviewState.PUBLISHED


def public(record):
    """The related record if the public may see it, else None.

    The one rule for links to other records (a network's headquarters, an agreement's
    network, a merger's successor...): a draft is not named on public pages or in
    downloads. Records without a review state (themes) are always public.
    """
    if record is None or not getattr(record, "is_published", True):
        return None
    return record


def url_maker(prefix=""):
    """(key, path, *args) -> `prefix` + the address of the record whose slug or id is
    `key`, where `path(*args)` (the record's get_absolute_url) is called for the first
    record only: every record's address ends with its key, so the first one, split
    around its key, serves the rest; an address that does not fit that shape is
    reversed as usual.

    For pages and downloads that list thousands of records, and kept for its bench
    figures (bench/README.md): reversing a URL per row made the CSV of Germany's
    twinnings 4 to 7 times slower (2,500-3,900 rows/s against 12,500-18,600 in the same
    run); on a city's page, two links a partner, it saves a quarter of the time with
    2,249 partners (370 against 270 ms of CPU, ten times the imported twinnings,
    SQLite) and a tenth with 72 (21 against 19 ms).
    """
    shape = []

    def url(key, path, *args):
        if not shape:
            path = path(*args)
            before, found, after = path.rpartition(key)
            if not found or key in before or after not in ("", "/"):
                return prefix + path
            shape.extend((prefix + before, after))
        return shape[0] + key + shape[1]

    return url


def review_state_constraint(model_name):
    return models.CheckConstraint(
        condition=models.Q(review_state__in=ReviewState.values),
        name=f"{model_name}_review_state_valid",
    )


def choice_constraint(model_name, field, choices, *, allow_blank=False):
    """A CheckConstraint keeping a choice field to its vocabulary."""
    condition = models.Q(**{f"{field}__in": list(choices.values)})
    if allow_blank:
        condition |= models.Q(**{field: ""})
    return models.CheckConstraint(condition=condition, name=f"{model_name}_{field}_valid")


def format_partial_date(year, date, precision):
    """'1956', 'January 1956' or '30 January 1956', as precise as the source."""
    if date and precision == DatePrecision.DAY:
        return f"{date.day} {date:%B %Y}"
    if date and precision == DatePrecision.MONTH:
        return f"{date:%B %Y}"
    return str(year) if year else ""


class CatalogueHistory(HistoricalRecords):
    """simple-history's HistoricalRecords, reachable from its model (`_history`), so a
    save and its links can be written as one history row (`hold_history`,
    `write_history`) instead of one for the save and one per link change.

    Give `m2m_fields` to keep a record's links (sources, themes, partner cities) in
    each history row: a revert then restores them. The version number is not history:
    a revert must not take it back.
    """

    def finalize(self, sender, **kwargs):
        if sender is self.cls and any(f.name == "version" for f in sender._meta.fields):
            self.excluded_fields = [*self.excluded_fields, "version"]
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            sender._history = self


def hold_history(obj):
    """Write no history row for `obj` until `write_history` (its links are pending)."""
    if getattr(type(obj), "_history", None) is not None:
        obj.skip_history_when_saving = True


def write_history(obj, history_type="~"):
    """One history row for `obj` as it now is, its links included."""
    tracker = getattr(type(obj), "_history", None)
    if tracker is None:
        return
    if hasattr(obj, "skip_history_when_saving"):
        del obj.skip_history_when_saving
    tracker.create_historical_record(obj, history_type)
