"""The instruments of city diplomacy: networks and memberships, agreements and their
parties, twinnings, other activities, and the themes and sources they cite."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connections, models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Greatest, Least
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from cities.models import City, CityName, CityQuerySet, NameSource
from cities.names import normalise
from citydiplo.facets import count_subquery
from citydiplo.records import (
    CatalogueHistory,
    CatalogueQuerySet,
    CatalogueRecord,
    DatePrecision,
    ReviewState,
    Versioned,
    choice_constraint,
    format_partial_date,
    query_words,
    review_state_constraint,
    search_words,
)

from .search import ranked_search


def unpublished_cities():
    """Primary keys of the cities not published: few, so `NOT IN` them costs less than
    joining every row to its city to read its state.

    Asked as the states other than published (the review state's constraint allows no
    other value), which the state's index finds at once; "not published" read all
    17,000 cities' states every time the list was built (3.5 ms each on PostgreSQL,
    two lists a query).
    """
    others = [state for state in ReviewState.values if state != ReviewState.PUBLISHED]
    return City.objects.filter(review_state__in=others).values("pk")


YEAR_VALIDATORS = [MinValueValidator(800), MaxValueValidator(2100)]


def year_field(verbose_name, **kwargs):
    return models.PositiveSmallIntegerField(
        verbose_name, null=True, blank=True, validators=YEAR_VALIDATORS, **kwargs
    )


def precision_field():
    return models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="How much of the date the source gives.",
    )


def year_not_after(model_name, earlier, later):
    """CheckConstraint: `later` is never before `earlier` (when both are known)."""
    return models.CheckConstraint(
        condition=Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__isnull": True})
        | Q(**{f"{later}__gte": F(earlier)}),
        name=f"{model_name}_{later}_not_before_{earlier}",
    )


def conflicting_values_with_sources():
    """Prefetch a record's conflicting values, each with its sources."""
    return Prefetch("conflicting_values", ConflictingValue.objects.prefetch_related("sources"))


def other_values(record, field):
    return [value for value in record.conflicting_values.all() if value.field == field]


def check_partial_date(errors, year_name, year, date_name, date, precision_name, precision):
    """Shared clean() rules for a (year, exact date, precision) triple."""
    today = timezone.localdate()
    if year and year > today.year:
        errors[year_name] = "This year is in the future."
    if date:
        if date > today:
            errors[date_name] = "This date is in the future."
        check_year_of_date(errors, year_name, year, date_name, date)
        if not precision:
            errors[precision_name] = "Say whether the source gives the month or the day."
    elif precision in (DatePrecision.MONTH, DatePrecision.DAY):
        errors[date_name] = "A month or day precision needs the date."


def check_year_of_date(errors, year_name, year, date_name, date):
    """clean() rule: a date comes with its year, and they agree."""
    if date and not year:
        errors[year_name] = "Give the year of the date too."
    elif date and date.year != year:
        errors[date_name] = f"The date is in {date.year}, the year says {year}."


class Field(models.TextChoices):
    """Marchetti's five fields of operation of city diplomacy (2021, ch. 4)."""

    POLITICS = "politics", "Politics"
    ECONOMY = "economy", "Economy"
    CULTURE_ENVIRONMENT = "culture_environment", "Culture and environment"
    SECURITY = "security", "Security"
    HUMAN_RIGHTS = "human_rights", "Human rights, migration and development"


class SourceKind(models.TextChoices):
    OFFICIAL = "official", "Official"
    NEWS = "news", "News"
    ACADEMIC = "academic", "Academic"
    REFERENCE = "reference", "Reference work"
    DATASET = "dataset", "Dataset"


class SourceQuerySet(models.QuerySet):
    def cited(self):
        """Sources cited by a published record: one only drafts cite stays unlisted."""
        cited = Q(pk__in=City.objects.published().values("sources"))
        for model in (
            Network,
            Membership,
            Agreement,
            AgreementParty,
            Twinning,
            Activity,
            ConflictingValue,
        ):
            cited |= Q(pk__in=model.objects.published().values("sources"))
        return self.filter(cited)


class SourceManager(models.Manager.from_queryset(SourceQuerySet)):
    def get_by_natural_key(self, key):
        return self.get(key=key)


class Source(Versioned):
    key = models.SlugField(
        max_length=120, unique=True, help_text="Short handle, e.g. wiki-coventry."
    )
    title = models.CharField(max_length=500)
    url = models.URLField("URL", max_length=1000)
    publisher = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    published_on = models.DateField(null=True, blank=True)
    accessed_on = models.DateField(null=True, blank=True)
    cities = models.ManyToManyField(City, related_name="sources", blank=True)

    objects = SourceManager()
    history = CatalogueHistory(m2m_fields=["cities"])

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "sources"
        constraints = [
            choice_constraint("source", "kind", SourceKind),
            models.CheckConstraint(condition=~Q(url=""), name="source_url_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="source_title_not_empty"),
        ]

    def __str__(self):
        return f"{self.title} ({self.publisher})" if self.publisher else self.title

    def natural_key(self):
        return (self.key,)


def source_links():
    """The sources a download lists beside each record: key and address, by key."""
    return Prefetch("sources", Source.objects.order_by("key").only("key", "url"))


class ThemeQuerySet(models.QuerySet):
    def search(self, q):
        """Themes named like `q` first, then those with every word of `q` in their name,
        slug or description (activities.search)."""
        return ranked_search(self, q, ("name",), ("slug", "description"))

    def for_detail(self):
        """A theme with its published networks, agreements, twinnings and activities."""
        return self.prefetch_related(
            Prefetch("networks", Network.objects.published(), to_attr="published_networks"),
            Prefetch("agreements", Agreement.objects.published(), to_attr="published_agreements"),
            Prefetch(
                "twinnings",
                Twinning.objects.published().select_related("city_a", "city_b"),
                to_attr="published_twinnings",
            ),
            Prefetch(
                "activities",
                Activity.objects.published().select_related("lead_city"),
                to_attr="published_activities",
            ),
        )


class ThemeManager(models.Manager.from_queryset(ThemeQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Theme(Versioned):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    field = models.CharField(
        "field of operation", max_length=20, choices=Field.choices, db_index=True
    )

    objects = ThemeManager()
    history = CatalogueHistory()

    class Meta:
        ordering = ["field", "name"]
        verbose_name_plural = "themes"
        constraints = [choice_constraint("theme", "field", Field)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("activities:theme-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)


# Networks and memberships ------------------------------------------------------------


class NetworkScope(models.TextChoices):
    GLOBAL = "global", "Global"
    REGIONAL = "regional", "Regional"
    NATIONAL = "national", "National"


class NetworkQuerySet(CatalogueQuerySet):
    def search(self, q):
        """Networks whose name or acronym matches `q`, best match first, then those with
        every word of `q` in their slug, summary or region (activities.search)."""
        return ranked_search(self, q, ("name", "acronym"), ("slug", "summary", "region_covered"))

    def for_detail(self):
        """A network with its published members, agreements and history, in fixed queries."""
        return self.select_related(
            "founding_place", "headquarters", "merged_into"
        ).prefetch_related(
            Prefetch(
                "memberships",
                Membership.objects.published()
                .select_related("city")
                .prefetch_related(conflicting_values_with_sources())
                .order_by("city__country", "city__name"),
                to_attr="published_memberships",
            ),
            Prefetch(
                "agreements",
                Agreement.objects.published().select_related("place"),
                to_attr="published_agreements",
            ),
            Prefetch("merged_from", Network.objects.published(), to_attr="published_merged_from"),
            "themes",
            "sources",
        )

    def for_list(self):
        """What the list page shows: headquarters, themes, whether it closed (by merging
        into a published network) and the number of published members, in constant
        queries. Downloads prefetch what their columns read besides
        (activities/exports.py)."""
        members = Membership.objects.published()
        return (
            self.select_related("headquarters", "merged_into")
            .prefetch_related("themes")
            .annotate(member_total=count_subquery(members, "network"))
        )


class NetworkManager(models.Manager.from_queryset(NetworkQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Network(CatalogueRecord):
    name = models.CharField(max_length=300)
    acronym = models.CharField(max_length=40, blank=True)
    slug = models.SlugField(max_length=120, unique=True)
    founded_year = year_field("founded (year)", db_index=True)
    founded_on = models.DateField("founded on", null=True, blank=True)
    founded_precision = precision_field()
    founding_place = models.ForeignKey(
        City, models.PROTECT, null=True, blank=True, related_name="networks_founded_here"
    )
    headquarters = models.ForeignKey(
        City, models.PROTECT, null=True, blank=True, related_name="networks_headquartered"
    )
    closed_year = year_field("closed (year)")
    closed_on = models.DateField("closed on", null=True, blank=True)
    closed_precision = precision_field()
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    scope = models.CharField(max_length=10, choices=NetworkScope.choices, db_index=True)
    region_covered = models.CharField(
        max_length=200, blank=True, help_text="World, Europe, Asia-Pacific, Latin America..."
    )
    themes = models.ManyToManyField(Theme, related_name="networks", blank=True)
    website = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    member_count = models.PositiveIntegerField("reported member count", null=True, blank=True)
    member_count_year = year_field("year of the member count")
    notes = models.TextField(blank=True, help_text="History: moves, mergers, conflicts.")
    sources = models.ManyToManyField(Source, related_name="networks", blank=True)

    objects = NetworkManager()
    history = CatalogueHistory(m2m_fields=["themes", "sources"])
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("memberships",)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "networks"
        permissions = [("publish_network", "Can publish networks")]
        constraints = [
            year_not_after("network", "founded_year", "closed_year"),
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")), name="network_not_merged_into_itself"
            ),
            choice_constraint("network", "scope", NetworkScope),
            choice_constraint("network", "founded_precision", DatePrecision, allow_blank=True),
            choice_constraint("network", "closed_precision", DatePrecision, allow_blank=True),
            review_state_constraint("network"),
        ]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_absolute_url(self):
        return reverse("activities:network-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        errors = {}
        check_partial_date(
            errors,
            "founded_year",
            self.founded_year,
            "founded_on",
            self.founded_on,
            "founded_precision",
            self.founded_precision,
        )
        check_partial_date(
            errors,
            "closed_year",
            self.closed_year,
            "closed_on",
            self.closed_on,
            "closed_precision",
            self.closed_precision,
        )
        if self.member_count_year and self.member_count_year > timezone.localdate().year:
            errors["member_count_year"] = "This year is in the future."
        if self.founded_year and self.closed_year and self.closed_year < self.founded_year:
            errors["closed_year"] = "A network cannot close before it was founded."
        if self.merged_into_id and self.merged_into_id == self.pk:
            errors["merged_into"] = "A network cannot merge into itself."
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self):
        """Active as the public sees it: a closure by merging into a network still in
        draft is not shown (it would name, by its absence, an unpublished record)."""
        return self.closed_year is None or self.merged_into_is_draft

    @property
    def merged_into_is_draft(self):
        return self.merged_into_id is not None and not self.merged_into.is_published

    @property
    def public_closed_year(self):
        return None if self.is_active else self.closed_year

    @property
    def public_closed_on(self):
        return None if self.is_active else self.closed_on

    @property
    def founded_display(self):
        return format_partial_date(self.founded_year, self.founded_on, self.founded_precision)

    @property
    def closed_display(self):
        return format_partial_date(self.closed_year, self.closed_on, self.closed_precision)


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member"
    FOUNDING_MEMBER = "founding_member", "Founding member"
    BOARD = "board", "Board or steering committee"
    CHAIR = "chair", "Chair or president"
    OBSERVER = "observer", "Observer"


class MembershipQuerySet(CatalogueQuerySet):
    SEARCH_FIELDS = ("city__name", "network__name", "network__acronym", "category", "notes")

    def search(self, q):
        """Memberships with every word of `q` in the city, network, category or notes."""
        return search_words(self, q, self.SEARCH_FIELDS)

    def for_list(self):
        """The network and city of each row in the same query."""
        return self.select_related("network", "city")

    def published(self):
        """Published memberships of a published city in a published network."""
        return (
            super()
            .published()
            .filter(
                city__review_state=ReviewState.PUBLISHED,
                network__review_state=ReviewState.PUBLISHED,
            )
        )

    def disputed(self, field=None):
        """Memberships for which a source gives another value (of `field`, if given)."""
        values = ConflictingValue.objects.filter(membership=OuterRef("pk"))
        if field:
            values = values.filter(field=field)
        return self.filter(Exists(values))


class MembershipManager(models.Manager.from_queryset(MembershipQuerySet)):
    def get_by_natural_key(self, network_slug, city_slug):
        return self.get(network__slug=network_slug, city__slug=city_slug)


class Membership(CatalogueRecord):
    network = models.ForeignKey(Network, models.CASCADE, related_name="memberships")
    city = models.ForeignKey(City, models.PROTECT, related_name="memberships")
    role = models.CharField(
        max_length=20,
        choices=MembershipRole.choices,
        default=MembershipRole.MEMBER,
        db_index=True,
    )
    category = models.CharField(
        max_length=200,
        blank=True,
        help_text="The network's own division, e.g. a UNESCO creative field.",
    )
    joined_year = year_field("joined (year)", db_index=True)
    left_year = year_field("left (year)")
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="memberships", blank=True)

    objects = MembershipManager()
    history = CatalogueHistory(m2m_fields=["sources"])
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("conflicting_values",)

    class Meta:
        ordering = ["network__name", "city__name"]
        verbose_name_plural = "memberships"
        permissions = [("publish_membership", "Can publish memberships")]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "city"], name="membership_one_per_city_and_network"
            ),
            year_not_after("membership", "joined_year", "left_year"),
            choice_constraint("membership", "role", MembershipRole),
            review_state_constraint("membership"),
        ]

    def __str__(self):
        return f"{self.city.name} in {self.network.acronym or self.network.name}"

    def get_absolute_url(self):
        return self.network.get_absolute_url()

    def natural_key(self):
        return (self.network.slug, self.city.slug)

    natural_key.dependencies = ["activities.network", "cities.city"]

    def clean(self):
        errors = {}
        this_year = timezone.localdate().year
        for name in ("joined_year", "left_year"):
            value = getattr(self, name)
            if value and value > this_year:
                errors[name] = "This year is in the future."
        if self.joined_year and self.left_year and self.left_year < self.joined_year:
            errors["left_year"] = "A city cannot leave a network before it joined."
        if errors:
            raise ValidationError(errors)

    @property
    def other_joined_years(self):
        """Join years other sources give (from prefetched conflicting values)."""
        return other_values(self, DisputedField.JOINED_YEAR)

    @property
    def other_left_years(self):
        return other_values(self, DisputedField.LEFT_YEAR)


# Agreements and their parties --------------------------------------------------------


class AgreementKind(models.TextChoices):
    COOPERATION = "cooperation", "Bilateral cooperation agreement"
    MOU = "mou", "Memorandum of understanding"
    FRIENDSHIP = "friendship", "Friendship agreement"
    PACT = "pact", "Multilateral pact or charter"
    DECLARATION = "declaration", "Declaration"


class AgreementStatus(models.TextChoices):
    IN_FORCE = "in_force", "In force"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    SUSPENDED = "suspended", "Suspended"
    UNKNOWN = "unknown", "Unknown"


class AgreementQuerySet(CatalogueQuerySet):
    def search(self, q):
        """Agreements whose title matches `q`, best match first, then those with every
        word of `q` in their slug, summary or forum (activities.search)."""
        return ranked_search(self, q, ("title",), ("slug", "summary", "forum"))

    def for_detail(self):
        """An agreement with its participants (published cities only), themes, sources."""
        return self.select_related("place", "network").prefetch_related(
            Prefetch(
                "parties",
                AgreementParty.objects.filter(city__review_state=ReviewState.PUBLISHED)
                .select_related("city")
                .prefetch_related(conflicting_values_with_sources())
                .order_by("date", "year", "city__name"),
                to_attr="published_parties",
            ),
            "themes",
            "sources",
        )

    def for_list(self):
        """Network, place and the number of cities taking part, in the same query."""
        parties = AgreementParty.objects.filter(city__review_state=ReviewState.PUBLISHED)
        return self.select_related("network", "place").annotate(
            party_count=count_subquery(parties, "agreement", "city", distinct=True)
        )


class AgreementManager(models.Manager.from_queryset(AgreementQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Agreement(CatalogueRecord):
    title = models.CharField(max_length=400)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=AgreementKind.choices, db_index=True)
    signed_year = year_field("signed or adopted (year)", db_index=True)
    signed_on = models.DateField("signed or adopted on", null=True, blank=True)
    signed_precision = precision_field()
    place = models.ForeignKey(
        City,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements_signed_here",
        help_text="Where it was signed or adopted.",
    )
    forum = models.CharField(
        "forum or event",
        max_length=300,
        blank=True,
        help_text="Conference, summit or meeting where it was adopted.",
    )
    network = models.ForeignKey(
        Network, models.PROTECT, null=True, blank=True, related_name="agreements"
    )
    status = models.CharField(
        max_length=12,
        choices=AgreementStatus.choices,
        default=AgreementStatus.UNKNOWN,
        db_index=True,
    )
    status_year = year_field("status since (year)")
    status_on = models.DateField("status since", null=True, blank=True)
    summary = models.TextField(blank=True)
    text_url = models.URLField("link to the text", max_length=1000, blank=True)
    parties_reported = models.PositiveIntegerField(
        "reported number of parties",
        null=True,
        blank=True,
        help_text="How many cities the instrument's own list (or the fullest source) "
        "names; the parties recorded here may be fewer.",
    )
    parties_reported_year = year_field("year of the reported number")
    themes = models.ManyToManyField(Theme, related_name="agreements", blank=True)
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="agreements", blank=True)
    cities = models.ManyToManyField(
        City, through="AgreementParty", related_name="agreements", blank=True
    )

    objects = AgreementManager()
    history = CatalogueHistory(m2m_fields=["themes", "sources"])
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("parties",)

    class Meta:
        ordering = ["-signed_year", "title"]
        verbose_name_plural = "agreements"
        permissions = [("publish_agreement", "Can publish agreements")]
        constraints = [
            year_not_after("agreement", "signed_year", "status_year"),
            choice_constraint("agreement", "kind", AgreementKind),
            choice_constraint("agreement", "status", AgreementStatus),
            choice_constraint("agreement", "signed_precision", DatePrecision, allow_blank=True),
            review_state_constraint("agreement"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("activities:agreement-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        errors = {}
        check_partial_date(
            errors,
            "signed_year",
            self.signed_year,
            "signed_on",
            self.signed_on,
            "signed_precision",
            self.signed_precision,
        )
        if self.status_on and self.status_on > timezone.localdate():
            errors["status_on"] = "This date is in the future."
        if self.status_year and self.status_year > timezone.localdate().year:
            errors["status_year"] = "This year is in the future."
        check_year_of_date(errors, "status_year", self.status_year, "status_on", self.status_on)
        if self.signed_year and self.status_year and self.status_year < self.signed_year:
            errors["status_year"] = "The status cannot change before the agreement was signed."
        if self.parties_reported_year and self.parties_reported_year > timezone.localdate().year:
            errors["parties_reported_year"] = "This year is in the future."
        if self.parties_reported is not None and not self.parties_reported_year:
            errors["parties_reported_year"] = "Say in which year the number was reported."
        if errors:
            raise ValidationError(errors)

    @property
    def signed_display(self):
        return format_partial_date(self.signed_year, self.signed_on, self.signed_precision)


class PartyAction(models.TextChoices):
    SIGNED = "signed", "Signed"
    ENDORSED = "endorsed", "Endorsed"
    ACCEDED = "acceded", "Acceded"
    WITHDREW = "withdrew", "Withdrew"


class AgreementPartyQuerySet(models.QuerySet):
    def published(self):
        """Actions of published cities on published agreements (parties have no review
        state of their own)."""
        return self.filter(
            agreement__review_state=ReviewState.PUBLISHED,
            city__review_state=ReviewState.PUBLISHED,
        )

    SEARCH_FIELDS = ("city__name", "agreement__title", "notes")

    def search(self, q):
        """Parties with every word of `q` in the city's name, the agreement's title or notes."""
        return search_words(self, q, self.SEARCH_FIELDS)

    def for_list(self):
        """The agreement and city of each row in the same query."""
        return self.select_related("agreement", "city")


class AgreementPartyManager(models.Manager.from_queryset(AgreementPartyQuerySet)):
    def get_by_natural_key(self, agreement_slug, city_slug, action):
        return self.get(agreement__slug=agreement_slug, city__slug=city_slug, action=action)


class AgreementParty(Versioned):
    """A city's action on an agreement, like a line of a treaty status table."""

    agreement = models.ForeignKey(Agreement, models.CASCADE, related_name="parties")
    city = models.ForeignKey(City, models.PROTECT, related_name="agreement_parties")
    action = models.CharField(
        max_length=10, choices=PartyAction.choices, default=PartyAction.SIGNED
    )
    year = year_field("year of the action")
    date = models.DateField("date of the action", null=True, blank=True)
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="agreement_parties", blank=True)

    objects = AgreementPartyManager()
    history = CatalogueHistory(m2m_fields=["sources"])
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("conflicting_values",)

    class Meta:
        ordering = ["agreement", "year", "city__name"]
        verbose_name = "agreement party"
        verbose_name_plural = "agreement parties"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "city", "action"], name="agreementparty_unique_action"
            ),
            choice_constraint("agreementparty", "action", PartyAction),
        ]

    def __str__(self):
        return f"{self.city.name} {self.get_action_display().lower()} {self.agreement.title}"

    def get_absolute_url(self):
        return self.agreement.get_absolute_url()

    def natural_key(self):
        return (self.agreement.slug, self.city.slug, self.action)

    @property
    def is_published(self):
        """A party is public when its agreement is (its changes then wait for review)."""
        return self.agreement.is_published

    natural_key.dependencies = ["activities.agreement", "cities.city"]

    def clean(self):
        errors = {}
        if self.date:
            if self.date > timezone.localdate():
                errors["date"] = "This date is in the future."
            if not self.year:
                errors["year"] = "Give the year of the date too."
            elif self.year != self.date.year:
                errors["date"] = f"The date is in {self.date.year}, the year says {self.year}."
        if self.year and self.year > timezone.localdate().year:
            errors["year"] = "This year is in the future."
        if errors:
            raise ValidationError(errors)

    @property
    def other_years(self):
        """Years of the action other sources give (from prefetched conflicting values)."""
        return other_values(self, DisputedField.YEAR)


# Twinnings ----------------------------------------------------------------------------


class TwinningKind(models.TextChoices):
    TWIN_TOWN = "twin_town", "Twin town"
    SISTER_CITY = "sister_city", "Sister city"
    PARTNER_CITY = "partner_city", "Partner city"
    FRIENDSHIP_CITY = "friendship_city", "Friendship city"


class TwinningStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class TwinningQuerySet(CatalogueQuerySet):
    def published(self):
        """Published twinnings between two published places (a draft city stays hidden).

        The few unpublished places are left out without joining every twinning to both
        its cities, in the shape each database plans best: on SQLite `NOT IN` a list it
        reads once; on PostgreSQL `NOT EXISTS`, an anti-join. PostgreSQL plans `NOT IN`
        as a hashed subplan that rules out looking twinnings up by id, so a search read
        all 245,000 of them (bench/README.md: search "lyon" at ten times the twinnings,
        its queries 226 ms against 23), while SQLite runs `NOT EXISTS` once a row (the
        twinnings list's queries 292 ms against 1,099).
        """
        queryset = super().published()
        if connections[self.db].vendor == "postgresql":
            for side in ("city_a", "city_b"):
                queryset = queryset.exclude(Exists(unpublished_cities().filter(pk=OuterRef(side))))
            return queryset
        return queryset.exclude(city_a__in=unpublished_cities()).exclude(
            city_b__in=unpublished_cities()
        )

    def of_published_city(self, side):
        """Published twinnings whose place on the other side than `side` ("city_a" or
        "city_b") is published: a published city's own, for counting or probing them per
        city (the city is published already, so its own state is not read again).

        `NOT IN` the few unpublished places, on both databases: inside a subquery run
        once per city, PostgreSQL hashes that list once, where `NOT EXISTS` looked up
        both cities of every twinning (bench/README.md: the city list sorted by
        twinnings at ten times the twinnings, its query 588 against 107 ms).
        """
        other = "city_b" if side == "city_a" else "city_a"
        return super().published().exclude(**{f"{other}__in": unpublished_cities()})

    def in_countries(self, codes):
        """Twinnings with a place in one of `codes`, on either side.

        Reads the per-side country columns, each indexed, so the OR is two index
        lookups and no join."""
        return self.filter(Q(country_a__in=codes) | Q(country_b__in=codes))

    def refresh_sides(self):
        """Copy each side's name and country from its city: for writes that skip save()
        (bulk_create, fixtures, restores, a renamed city)."""

        def of(side, column):
            return Subquery(City.objects.filter(pk=OuterRef(side)).values(column)[:1])

        return self.update(
            name_a=of("city_a", "name"),
            name_b=of("city_b", "name"),
            country_a=of("city_a", "country"),
            country_b=of("city_b", "country"),
        )

    def for_list(self):
        """The list page's rows: the twinnings alone. The page shows each side's own
        name and country columns, so no place is joined or fetched (joining both places
        to every twinning of a country before sorting cost most of the query: Germany's
        twinnings, 27 against 9 ms on SQLite, bench/README.md); downloads read places,
        themes and sources by column (activities/exports.py)."""
        return self

    def involving(self, city):
        return self.filter(Q(city_a=city) | Q(city_b=city))

    def between(self, city, other):
        return self.filter(Q(city_a=city, city_b=other) | Q(city_a=other, city_b=city))

    def search(self, q):
        """Twinnings with every word of `q` in a name of either place (any name it goes
        by, cities.CityName) or in the reason or act that suspended or ended them; the
        pairs whose place best matches the whole of `q` first (as City search ranks).

        Served by the indexes of city names: no scan of the twinnings' texts beyond
        the few links that are no longer active.
        """
        q = " ".join((q or "").split())
        if not q:
            return self
        queryset = self
        every = self.model._base_manager.order_by()
        for word in query_words(q):
            cities = CityName.objects.matching(normalise(word)).values("city_id")
            ended = every.filter(
                Q(status_reason__icontains=word) | Q(status_act__icontains=word),
                status__in=[TwinningStatus.SUSPENDED, TwinningStatus.TERMINATED],
            )
            # A union of index lookups: with OR, the planners scan every twinning.
            either = (
                every.filter(city_a__in=cities)
                .values("pk")
                .union(every.filter(city_b__in=cities).values("pk"), ended.values("pk"))
            )
            queryset = queryset.filter(pk__in=either)
        folded = normalise(q)
        if not folded:
            return queryset
        ordering = list(self.query.order_by) or list(self.model._meta.ordering)
        match = CityName.objects.best_match(folded, "city_a", "city_b")
        return queryset.annotate(match=match).order_by("match", *ordering)

    def for_detail(self):
        return self.select_related("city_a", "city_b").prefetch_related(
            "themes", "sources", conflicting_values_with_sources()
        )

    def for_city_page(self, partner):
        """The published twinnings of a published city with their partner on the side
        `partner` ("city_a" or "city_b"), as its page lists them: only the columns it
        shows, and the partner's state read through the join that fetches it, which is
        published() once the other side is the published city itself (half the Python
        time of fetching a city's 72 twinnings: bench/README.md)."""
        return (
            self.filter(review_state=ReviewState.PUBLISHED)
            .filter(**{f"{partner}__review_state": ReviewState.PUBLISHED})
            .select_related(partner)
            .only(
                *CITY_PAGE_TWINNING_FIELDS,
                *(f"{partner}__{field}" for field in CITY_PAGE_PARTNER_FIELDS),
            )
        )

    def disputed(self, field=None):
        """Twinnings for which a source gives another value (of `field`, if given)."""
        values = ConflictingValue.objects.filter(twinning=OuterRef("pk"))
        if field:
            values = values.filter(field=field)
        return self.filter(Exists(values))


SIDE_FIELDS = ("name_a", "name_b", "country_a", "country_b")
# What a city's page shows of each of its twinnings and partners (for_city_page).
CITY_PAGE_TWINNING_FIELDS = (
    "city_a",
    "city_b",
    "country_a",
    "country_b",
    "kind",
    "start_year",
    "start_on",
    "start_precision",
    "status",
    "status_year",
)
CITY_PAGE_PARTNER_FIELDS = ("slug", "name", "country", "subdivision", "latitude", "longitude")


class TwinningManager(models.Manager.from_queryset(TwinningQuerySet)):
    def get_by_natural_key(self, city_a_slug, city_b_slug):
        return self.get(city_a__slug=city_a_slug, city_b__slug=city_b_slug)


class Twinning(CatalogueRecord):
    """One record per pair of places, found from either side."""

    city_a = models.ForeignKey(City, models.PROTECT, related_name="twinnings_as_a")
    city_b = models.ForeignKey(City, models.PROTECT, related_name="twinnings_as_b")
    # Each side's name and country, copied from its city (save(), refresh_sides(), a
    # city's post_save): the list's order, filters and facets read them through
    # indexes, without joining 240,000 rows to the cities (bench/README.md).
    name_a = models.CharField(max_length=200, blank=True, editable=False)
    name_b = models.CharField(max_length=200, blank=True, editable=False)
    country_a = CountryField(blank=True, editable=False)
    country_b = CountryField(blank=True, editable=False)
    kind = models.CharField(
        max_length=20, choices=TwinningKind.choices, default=TwinningKind.TWIN_TOWN, db_index=True
    )
    start_year = year_field("started (year)", db_index=True)
    start_on = models.DateField("started on", null=True, blank=True)
    start_precision = precision_field()
    status = models.CharField(
        max_length=12, choices=TwinningStatus.choices, default=TwinningStatus.ACTIVE, db_index=True
    )
    status_year = year_field("status since (year)")
    status_on = models.DateField("status since", null=True, blank=True)
    status_reason = models.TextField("reason for the last status change", blank=True)
    status_act = models.CharField(
        "deciding act",
        max_length=500,
        blank=True,
        help_text="The decision behind the last status change, e.g. a council resolution.",
    )
    themes = models.ManyToManyField(Theme, related_name="twinnings", blank=True)
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="twinnings", blank=True)

    objects = TwinningManager()
    history = CatalogueHistory(m2m_fields=["themes", "sources"])
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("conflicting_values",)

    class Meta:
        ordering = ["name_a", "name_b"]
        verbose_name_plural = "twinnings"
        permissions = [("publish_twinning", "Can publish twinnings")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(city_a=F("city_b")), name="twinning_not_with_itself"
            ),
            models.UniqueConstraint(
                Least("city_a", "city_b"),
                Greatest("city_a", "city_b"),
                name="twinning_pair_unique_either_order",
                violation_error_message="These two places are already twinned.",
            ),
            year_not_after("twinning", "start_year", "status_year"),
            models.CheckConstraint(
                condition=Q(start_on__isnull=True)
                | Q(status_on__isnull=True)
                | Q(status_on__gte=F("start_on")),
                name="twinning_status_on_not_before_start_on",
            ),
            choice_constraint("twinning", "kind", TwinningKind),
            choice_constraint("twinning", "status", TwinningStatus),
            choice_constraint("twinning", "start_precision", DatePrecision, allow_blank=True),
            review_state_constraint("twinning"),
        ]
        indexes = [
            models.Index(fields=["city_b", "city_a"], name="twinning_city_b_idx"),
            # A city's published twinnings on each side, read from the index alone: the
            # city list's counts and its "has twinnings" facet probe them once per city
            # (at ten times the imported twinnings, the query sorting the cities by
            # their number of twinnings took 6.5 s on SQLite with the foreign keys' own
            # indexes and 0.55 s with these, in one loaded run: bench/README.md;
            # on PostgreSQL 1.5 and 0.21 s). The state comes first: led by
            # the city, SQLite preferred walking twinning_names_idx over the whole table
            # for the country filter of the CSV export (1.6 s against 0.8 s).
            models.Index(
                fields=["review_state", "city_a", "city_b"], name="twinning_state_city_a_idx"
            ),
            models.Index(
                fields=["review_state", "city_b", "city_a"], name="twinning_state_city_b_idx"
            ),
            models.Index(fields=["country_a", "country_b"], name="twinning_countries_idx"),
            models.Index(fields=["country_b", "country_a"], name="twinning_country_b_idx"),
            # The list's default order, walked in order for a page of 50.
            models.Index(fields=["review_state", "name_a", "name_b"], name="twinning_names_idx"),
            # Covers the facets' one grouped pass (activities.facets.twinning_groups)
            # and the count: read from the index alone, already grouped.
            models.Index(
                fields=[
                    "review_state",
                    "country_a",
                    "country_b",
                    "kind",
                    "status",
                    "city_a",
                    "city_b",
                ],
                name="twinning_groups_idx",
            ),
            # The home page's most recent records.
            models.Index(fields=["review_state", "created_at"], name="twinning_recent_idx"),
        ]

    def __str__(self):
        # The sides' names as copied from the places, so that naming a twinning (search
        # results, the admin, history) reads no city; a record not yet saved has none.
        return f"{self.name_a or self.city_a.name} – {self.name_b or self.city_b.name}"

    def prepare_save(self):
        """Each side's name and country, copied from its city by every save."""
        self.name_a, self.country_a = self.city_a.name, self.city_a.country.code
        self.name_b, self.country_b = self.city_b.name, self.city_b.country.code
        return {*super().prepare_save(), *SIDE_FIELDS}

    def get_absolute_url(self):
        return reverse("activities:twinning-detail", kwargs={"pk": self.pk})

    def natural_key(self):
        return (self.city_a.slug, self.city_b.slug)

    natural_key.dependencies = ["cities.city"]

    def clean(self):
        errors = {}
        if self.city_a_id and self.city_a_id == self.city_b_id:
            errors["city_b"] = "A place cannot be twinned with itself."
        check_partial_date(
            errors,
            "start_year",
            self.start_year,
            "start_on",
            self.start_on,
            "start_precision",
            self.start_precision,
        )
        if self.status_on and self.status_on > timezone.localdate():
            errors["status_on"] = "This date is in the future."
        if self.status_year and self.status_year > timezone.localdate().year:
            errors["status_year"] = "This year is in the future."
        check_year_of_date(errors, "status_year", self.status_year, "status_on", self.status_on)
        if self.start_year and self.status_year and self.status_year < self.start_year:
            errors["status_year"] = "The status cannot change before the twinning started."
        if self.start_on and self.status_on and self.status_on < self.start_on:
            errors["status_on"] = "The status cannot change before the twinning started."
        if self.status != TwinningStatus.ACTIVE and not self.status_year:
            errors["status_year"] = "Say when the twinning was suspended or terminated."
        if errors:
            raise ValidationError(errors)

    def partner_of(self, city):
        return self.city_b if city.pk == self.city_a_id else self.city_a

    @property
    def start_display(self):
        return format_partial_date(self.start_year, self.start_on, self.start_precision)

    @property
    def status_since(self):
        """The year of the last status change once the link is no longer active."""
        return self.status_year if self.status != TwinningStatus.ACTIVE else None


# Other activities ---------------------------------------------------------------------


class ActivityKind(models.TextChoices):
    DEVELOPMENT = "development", "Development cooperation project"
    HUMANITARIAN = "humanitarian", "Humanitarian and refugee assistance"
    OFFICE = "office", "Representation office abroad"
    TRADE_MISSION = "trade_mission", "Trade and investment mission"
    MEGA_EVENT = "mega_event", "Mega-event hosted"
    CAMPAIGN = "campaign", "Advocacy campaign"
    SUMMIT = "summit", "Summit"


class ActivityQuerySet(CatalogueQuerySet):
    def search(self, q):
        """Activities whose title matches `q`, best match first, then those with every
        word of `q` in their slug, summary, partners or lead city (activities.search)."""
        # A draft lead city's name finds nothing (it would reveal the draft).
        lead_city = ("lead_city__name", Q(lead_city__review_state=ReviewState.PUBLISHED))
        return ranked_search(self, q, ("title",), ("slug", "summary", "other_partners", lead_city))

    def for_detail(self):
        """An activity with its place, lead and published partner cities, themes, sources."""
        return self.select_related("lead_city", "place").prefetch_related(
            Prefetch(
                "partner_cities",
                City.objects.published(),
                to_attr="published_partner_cities",
            ),
            "themes",
            "sources",
        )

    def for_list(self):
        """The lead city and the number of published partner cities, in the same query."""
        partners = Activity.partner_cities.through.objects.filter(
            city__review_state=ReviewState.PUBLISHED
        )
        return self.select_related("lead_city").annotate(
            partner_count=count_subquery(partners, "activity")
        )


class ActivityManager(models.Manager.from_queryset(ActivityQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Activity(CatalogueRecord):
    title = models.CharField(max_length=400)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices, db_index=True)
    lead_city = models.ForeignKey(
        City, models.PROTECT, null=True, blank=True, related_name="activities_led"
    )
    partner_cities = models.ManyToManyField(City, related_name="activities_joined", blank=True)
    other_partners = models.TextField(
        blank=True, help_text="National agencies, UN bodies, NGOs... one per line."
    )
    start_year = year_field("started (year)", db_index=True)
    start_on = models.DateField("started on", null=True, blank=True)
    start_precision = precision_field()
    end_year = year_field("ended (year)")
    end_on = models.DateField("ended on", null=True, blank=True)
    end_precision = precision_field()
    place = models.ForeignKey(
        City,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="activities_held_here",
        help_text="Where it takes place, when that is not the lead city.",
    )
    themes = models.ManyToManyField(Theme, related_name="activities", blank=True)
    summary = models.TextField(blank=True)
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use the ISO 4217 code, e.g. EUR.")],
        help_text="ISO 4217, e.g. EUR.",
    )
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="activities", blank=True)

    objects = ActivityManager()
    history = CatalogueHistory(m2m_fields=["partner_cities", "themes", "sources"])

    class Meta:
        ordering = ["-start_year", "title"]
        verbose_name_plural = "activities"
        permissions = [("publish_activity", "Can publish activities")]
        constraints = [
            year_not_after("activity", "start_year", "end_year"),
            models.CheckConstraint(
                condition=Q(start_on__isnull=True)
                | Q(end_on__isnull=True)
                | Q(end_on__gte=F("start_on")),
                name="activity_end_on_not_before_start_on",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | ~Q(budget_currency=""),
                name="activity_budget_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="activity_budget_not_negative",
            ),
            choice_constraint("activity", "kind", ActivityKind),
            choice_constraint("activity", "start_precision", DatePrecision, allow_blank=True),
            choice_constraint("activity", "end_precision", DatePrecision, allow_blank=True),
            review_state_constraint("activity"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("activities:activity-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        errors = {}
        check_partial_date(
            errors,
            "start_year",
            self.start_year,
            "start_on",
            self.start_on,
            "start_precision",
            self.start_precision,
        )
        check_partial_date(
            errors,
            "end_year",
            self.end_year,
            "end_on",
            self.end_on,
            "end_precision",
            self.end_precision,
        )
        if self.start_year and self.end_year and self.end_year < self.start_year:
            errors["end_year"] = "An activity cannot end before it started."
        if self.start_on and self.end_on and self.end_on < self.start_on:
            errors["end_on"] = "An activity cannot end before it started."
        if self.budget is not None and not self.budget_currency:
            errors["budget_currency"] = "Give the currency of the budget."
        if errors:
            raise ValidationError(errors)

    @property
    def start_display(self):
        return format_partial_date(self.start_year, self.start_on, self.start_precision)

    @property
    def end_display(self):
        return format_partial_date(self.end_year, self.end_on, self.end_precision)


# Conflicting sources ------------------------------------------------------------------


class DisputedField(models.TextChoices):
    """The fields whose value sources may dispute, by the kind of record they belong to."""

    START = "start", "Start date"
    STATUS = "status", "Status"
    KIND = "kind", "Kind"
    JOINED_YEAR = "joined_year", "Year joined"
    LEFT_YEAR = "left_year", "Year left"
    YEAR = "year", "Year of the action"


DISPUTED_FIELDS = {
    "twinning": (DisputedField.START, DisputedField.STATUS, DisputedField.KIND),
    "membership": (DisputedField.JOINED_YEAR, DisputedField.LEFT_YEAR),
    "party": (DisputedField.YEAR,),
}
PARTIAL_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_partial_date(text):
    """'1960', '1960-10' or '1960-10-08' -> (year, date or None, precision).

    Raises ValueError for anything else, or a month or day that does not exist.
    """
    match = PARTIAL_DATE_RE.fullmatch(text or "")
    if not match:
        raise ValueError(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    if month is None:
        return int(year), None, DatePrecision.YEAR
    try:
        date = datetime.date(int(year), int(month), int(day or 1))
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None
    return int(year), date, DatePrecision.DAY if day else DatePrecision.MONTH


class ConflictingValueQuerySet(models.QuerySet):
    def published(self):
        """Other values of published records (the record's own published() rules)."""
        return self.filter(
            Q(twinning__in=Twinning.objects.published().values("pk"))
            | Q(membership__in=Membership.objects.published().values("pk"))
            | Q(party__in=AgreementParty.objects.published().values("pk"))
        )

    def grouped_by(self, owner):
        """{owner id: [its conflicting values, with their sources]} for `owner`
        ('twinning', 'membership' or 'party'), in two queries."""
        grouped = {}
        values = self.filter(**{f"{owner}__isnull": False}).prefetch_related(
            Prefetch("sources", Source.objects.only("key", "title", "url", "publisher"))
        )
        for value in values.order_by("field", "value"):
            grouped.setdefault(getattr(value, f"{owner}_id"), []).append(value)
        return grouped


class ConflictingValue(models.Model):
    """Another value a source gives for one field of a record, beside the one it uses.

    Sources disagree (Rome and Paris twinned on 30 January 1956 according to Le Monde,
    on 9 April 1956 according to others): the record keeps the value it uses with its
    sources, and each other value is kept here with its own.
    """

    twinning = models.ForeignKey(
        Twinning, models.CASCADE, null=True, blank=True, related_name="conflicting_values"
    )
    membership = models.ForeignKey(
        Membership, models.CASCADE, null=True, blank=True, related_name="conflicting_values"
    )
    party = models.ForeignKey(
        AgreementParty,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="conflicting_values",
        verbose_name="agreement party",
    )
    field = models.CharField(max_length=20, choices=DisputedField.choices)
    value = models.CharField(
        "other value",
        max_length=200,
        help_text="As the source gives it: a date as YYYY, YYYY-MM or YYYY-MM-DD, a year, "
        "or a status or kind from the record's own choices.",
    )
    notes = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="conflicting_values")

    objects = ConflictingValueQuerySet.as_manager()
    history = CatalogueHistory(m2m_fields=["sources"])

    class Meta:
        ordering = ["field", "value"]
        verbose_name = "conflicting value"
        verbose_name_plural = "conflicting values"
        constraints = [
            models.CheckConstraint(
                condition=Q(twinning__isnull=False, membership__isnull=True, party__isnull=True)
                | Q(twinning__isnull=True, membership__isnull=False, party__isnull=True)
                | Q(twinning__isnull=True, membership__isnull=True, party__isnull=False),
                name="conflictingvalue_one_record",
                violation_error_message="Name one record: a twinning, a membership or a party.",
            ),
            choice_constraint("conflictingvalue", "field", DisputedField),
            models.CheckConstraint(condition=~Q(value=""), name="conflictingvalue_value_not_empty"),
            *(
                models.UniqueConstraint(
                    fields=[owner, "field", "value"],
                    condition=Q(**{f"{owner}__isnull": False}),
                    name=f"conflictingvalue_unique_{owner}_value",
                    violation_error_message="This record already has this other value.",
                )
                for owner in DISPUTED_FIELDS
            ),
        ]

    def __str__(self):
        return f"{self.record}: {self.get_field_display().lower()} {self.value_display}"

    def get_absolute_url(self):
        record = self.record
        if isinstance(record, AgreementParty):
            record = record.agreement
        return record.get_absolute_url() if record else ""

    @property
    def owner(self):
        """'twinning', 'membership' or 'party': the kind of record it belongs to."""
        for owner in DISPUTED_FIELDS:
            if getattr(self, f"{owner}_id") is not None or getattr(self, owner, None):
                return owner
        return ""

    @property
    def record(self):
        owner = self.owner
        return getattr(self, owner) if owner else None

    def clean(self):
        owners = [o for o in DISPUTED_FIELDS if getattr(self, f"{o}_id") or getattr(self, o)]
        if len(owners) != 1:
            raise ValidationError("Name one record: a twinning, a membership or a party.")
        (owner,) = owners
        if self.field and self.field not in DISPUTED_FIELDS[owner]:
            allowed = ", ".join(DISPUTED_FIELDS[owner])
            raise ValidationError({"field": f"A {owner}'s disputed field is one of: {allowed}."})
        if not self.field or not self.value:
            return
        try:
            parsed = self.parsed_value()
        except ValueError as exc:
            raise ValidationError({"value": str(exc)}) from None
        if parsed == self.current_value():
            raise ValidationError({"value": "This is the value the record already uses."})

    def parsed_value(self):
        """The other value in the form current_value() returns; ValueError if malformed."""
        field, value = self.field, self.value.strip()
        if field == DisputedField.START:
            year, date, precision = parse_partial_date(value)
            if date and date > timezone.localdate() or year > timezone.localdate().year:
                raise ValueError("This date is in the future.")
            return year, date, precision
        if field == DisputedField.STATUS:
            if value not in TwinningStatus.values:
                raise ValueError(f"A status is one of {', '.join(TwinningStatus.values)}.")
            return value
        if field == DisputedField.KIND:
            if value not in TwinningKind.values:
                raise ValueError(f"A kind is one of {', '.join(TwinningKind.values)}.")
            return value
        if not value.isdigit() or not 800 <= int(value) <= timezone.localdate().year:
            raise ValueError(f"{value!r} is not a year (800 to this year).")
        return int(value)

    def current_value(self):
        """The record's own value of the disputed field, as parsed_value() gives it."""
        record = self.record
        if self.field == DisputedField.START:
            precision = record.start_precision or (DatePrecision.YEAR if record.start_year else "")
            date = record.start_on if precision != DatePrecision.YEAR else None
            return record.start_year, date, precision
        return getattr(record, self.field)

    @property
    def value_display(self):
        """'15 October 1960', 'Suspended', '2009': the other value as a reader says it."""
        try:
            parsed = self.parsed_value()
        except ValueError:
            return self.value
        if self.field == DisputedField.START:
            return format_partial_date(*parsed)
        if self.field == DisputedField.STATUS:
            return TwinningStatus(parsed).label
        if self.field == DisputedField.KIND:
            return TwinningKind(parsed).label
        return str(parsed)

    @property
    def current_display(self):
        """The value the record uses, as a reader says it."""
        record = self.record
        if self.field == DisputedField.START:
            return record.start_display or "Not known"
        if self.field == DisputedField.STATUS:
            return record.get_status_display()
        if self.field == DisputedField.KIND:
            return record.get_kind_display()
        value = getattr(record, self.field)
        return str(value) if value else "Not known"

    @property
    def source_keys(self):
        return [source.key for source in self.sources.all()]

    def as_export(self):
        """What a download says of it: CSV as one cell, JSON as an object."""
        return ExportedConflict(
            field=self.field,
            value=self.value,
            sources=self.source_keys,
            notes=self.notes,
        )


@dataclass(frozen=True)
class ExportedConflict:
    field: str
    value: str
    sources: list
    notes: str

    def __str__(self):
        return f"{self.field}={self.value} ({' '.join(self.sources)})"


# Cities, with their diplomacy ---------------------------------------------------------


class CityDiplomacyQuerySet(CityQuerySet):
    """Cities with what the city pages show of their diplomacy.

    `cities` knows nothing of twinnings or networks, so the city pages (which live here)
    query through this subclass of its queryset: `city_pages().published().for_list()`.
    """

    def for_list(self):
        """What the city list and its sorting need, in one query.

        The counts are correlated subqueries, so they cost the same on a page of 10 rows
        or 500.
        """
        return self.annotate(
            twinning_count=twinning_count(),
            network_count=count_subquery(Membership.objects.published(), "city"),
        )

    def for_detail(self):
        """A city with everything its page shows, in a fixed number of queries.

        Related published records land in `published_*` attributes.
        """
        return self.prefetch_related(
            Prefetch(
                "twinnings_as_a",
                Twinning.objects.for_city_page("city_b"),
                to_attr="published_twinnings_as_a",
            ),
            Prefetch(
                "twinnings_as_b",
                Twinning.objects.for_city_page("city_a"),
                to_attr="published_twinnings_as_b",
            ),
            Prefetch(
                "memberships",
                Membership.objects.published()
                .select_related("network")
                .order_by("joined_year", "network__name"),
                to_attr="published_memberships",
            ),
            Prefetch(
                "agreement_parties",
                AgreementParty.objects.filter(agreement__review_state=ReviewState.PUBLISHED)
                .select_related("agreement")
                .order_by("year", "agreement__title"),
                to_attr="published_agreement_parties",
            ),
            Prefetch(
                "activities_led",
                Activity.objects.published(),
                to_attr="published_activities_led",
            ),
            Prefetch(
                "activities_joined",
                Activity.objects.published(),
                to_attr="published_activities_joined",
            ),
            "sources",
            Prefetch(
                "names",
                CityName.objects.exclude(source=NameSource.MAIN).order_by("name"),
                to_attr="other_names",
            ),
        )


def twinning_count():
    """An annotation of (published) cities: their published twinnings with a published
    partner, either side; two index-only counts per city (Twinning.of_published_city)."""
    twinnings = Twinning.objects
    return count_subquery(twinnings.of_published_city("city_a"), "city_a") + count_subquery(
        twinnings.of_published_city("city_b"), "city_b"
    )


def city_pages():
    """All cities, as the city pages query them (CityDiplomacyQuerySet)."""
    return CityDiplomacyQuerySet(City)


def city_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of a City: its twinnings' copy of its name and country follows it (a
    city just inserted has no twinnings yet)."""
    if raw or created:
        return
    name, code = instance.name, instance.country.code
    for side in ("a", "b"):
        Twinning.objects.filter(**{f"city_{side}": instance}).exclude(
            **{f"name_{side}": name, f"country_{side}": code}
        ).update(**{f"name_{side}": name, f"country_{side}": code})


# What load_catalogue last wrote ---------------------------------------------------------


class LoadedRecord(models.Model):
    """The fingerprint of what `load_catalogue` last wrote to one record.

    A record whose fingerprint still matches was changed by nobody since the load, so
    the next load may update it; any other is an editor's work and is kept. The
    fixture's natural key is kept too, so a record whose slug an editor renamed is
    still found.
    """

    model = models.CharField(max_length=100)
    natural_key = models.CharField(max_length=600)
    object_id = models.PositiveBigIntegerField()
    fingerprint = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "natural_key"]
        verbose_name = "loaded record"
        verbose_name_plural = "loaded records"
        constraints = [
            models.UniqueConstraint(
                fields=["model", "natural_key"], name="loadedrecord_unique_natural_key"
            )
        ]

    def __str__(self):
        return f"{self.model} {self.natural_key}"
