from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorExact,
    TrigramSimilarity,
)
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connections, models
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.text import slugify
from django_countries.fields import CountryField

from citydiplo.records import (
    CatalogueHistory,
    CatalogueQuerySet,
    CatalogueRecord,
    choice_constraint,
    review_state_constraint,
    search_words,
)

from .regions import countries_in, region_of


class PlaceKind(models.TextChoices):
    CITY = "city", "City"
    TOWN = "town", "Town"
    MUNICIPALITY = "municipality", "Municipality"
    DISTRICT = "district", "District"
    REGION = "region", "Prefecture, province or region"
    METROPOLIS = "metropolis", "Metropolitan government"


class CityQuerySet(CatalogueQuerySet):
    def in_region(self, region):
        return self.filter(country__in=countries_in(region))

    def located(self):
        return self.filter(latitude__isnull=False, longitude__isnull=False)

    SEARCH_FIELDS = ("name", "alternate_names", "subdivision", "slug")

    def search(self, q):
        """Places matching `q`; a blank `q` filters nothing.

        Everywhere: every word of `q` in the name, other names, subdivision or slug
        (the rule the list pages and the site search share). On PostgreSQL also
        trigram similarity of the name ('Krakow' finds Kraków, 'Volgorad' finds
        Volgograd) and full-text words, best match first, served by the indexes of
        migration cities 0003.
        """
        q = " ".join((q or "").split())
        if not q:
            return self
        every_word = search_words(self, q, self.SEARCH_FIELDS)
        if connections[self.db].vendor != "postgresql":
            return every_word
        vector = SearchVector("name", "alternate_names", config="simple")
        words = SearchQuery(q, config="simple", search_type="websearch")
        rank = Greatest(TrigramSimilarity("name", q), SearchRank(vector, words))
        matches = Q(pk__in=every_word.values("pk")) | Q(SearchVectorExact(vector, words))
        if len(q.split()) == 1:
            # Typos are forgiven in a single name, never at the cost of a word of `q`.
            matches |= Q(TrigramSimilar(F("name"), q))
        return self.filter(matches).order_by(
            rank.desc(), F("population").desc(nulls_last=True), "name"
        )


class CityManager(models.Manager.from_queryset(CityQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class City(CatalogueRecord):
    name = models.CharField(max_length=200, db_index=True)
    alternate_names = models.TextField(
        blank=True, help_text="Other names and spellings, one per line (searchable)."
    )
    slug = models.SlugField(
        max_length=220,
        unique=True,
        help_text="Name and country code (paris-fr); add the subdivision when two places "
        "of one name share a country (portland-maine-us).",
    )
    country = CountryField(db_index=True)
    subdivision = models.CharField(
        max_length=200, blank=True, help_text="Region, state or province, where known."
    )
    kind = models.CharField(max_length=20, choices=PlaceKind.choices, default=PlaceKind.CITY)
    latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    population = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    population_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1000), MaxValueValidator(2100)]
    )
    geonames_id = models.PositiveIntegerField(
        null=True, blank=True, unique=True, verbose_name="GeoNames id"
    )
    wikidata_id = models.CharField(
        max_length=20,
        blank=True,
        verbose_name="Wikidata id",
        validators=[RegexValidator(r"^Q[1-9][0-9]*$", "A Wikidata id is like Q90.")],
        help_text="Such as Q90.",
    )
    is_capital = models.BooleanField("national capital", default=False, db_index=True)
    summary = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    objects = CityManager()
    history = CatalogueHistory()

    class Meta:
        ordering = ["name", "country"]
        verbose_name = "city"
        verbose_name_plural = "cities"
        permissions = [("publish_city", "Can publish cities")]
        constraints = [
            models.UniqueConstraint(
                fields=["wikidata_id"],
                condition=~models.Q(wikidata_id=""),
                name="city_wikidata_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="city_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="city_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="city_coordinates_both_or_neither",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="city_name_not_empty"),
            choice_constraint("city", "kind", PlaceKind),
            review_state_constraint("city"),
        ]
        indexes = [
            models.Index(fields=["country", "name"], name="city_country_name_idx"),
            models.Index(fields=["-population"], name="city_population_desc_idx"),
        ]

    def __str__(self):
        if self.subdivision:
            return f"{self.name} ({self.subdivision}, {self.country.code})"
        return f"{self.name} ({self.country.code})"

    def get_absolute_url(self):
        return reverse("cities:city-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")
        if not self.slug and self.name and self.country:
            self.slug = self.unique_slug(self.name, self.country.code, self.subdivision)

    @property
    def region(self):
        return region_of(self.country.code)

    @property
    def is_located(self):
        return self.latitude is not None and self.longitude is not None

    @classmethod
    def unique_slug(cls, name, country, subdivision=""):
        """name-cc; with the subdivision, then a number, when that is taken."""
        candidates = [slugify(f"{name} {country}")]
        if subdivision:
            candidates.append(slugify(f"{name} {subdivision} {country}"))
        for slug in candidates:
            if slug and not cls.objects.filter(slug=slug).exists():
                return slug
        base = candidates[-1] or "place"
        number = 2
        while cls.objects.filter(slug=f"{base}-{number}").exists():
            number += 1
        return f"{base}-{number}"
