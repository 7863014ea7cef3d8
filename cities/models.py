import functools

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connections, models
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.text import slugify
from django_countries import countries
from django_countries.fields import CountryField

from citydiplo.records import (
    CatalogueHistory,
    CatalogueQuerySet,
    CatalogueRecord,
    ReviewState,
    choice_constraint,
    query_words,
    review_state_constraint,
)

from .names import SAINT_WORDS, normalise, prefix_end, similarity
from .regions import countries_in, region_of

#: The `match` of a place found word by word (City search), after names.
WORDS_MATCH = 3


def countries_named(word):
    """ISO codes of the countries `word` names: their code, or the start of their
    English name ("fr", "france", "germ")."""
    folded = normalise(word)
    if not folded:
        return []
    return [
        code
        for code, name in _country_names()
        if folded == code.lower() or (len(folded) >= 3 and name.startswith(folded))
    ]


@functools.cache
def _country_names():
    return [(code, normalise(str(name))) for code, name in countries]


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

    def search(self, q):
        """Places with a name (main or other, cities.CityName) matching `q`, best match
        first; a blank `q` filters nothing.

        A name equal to `q` comes first (`match` 0), then one starting with it (1), then
        one containing it (2, from three letters on), compared after
        `cities.names.normalise`; then, for a query of several words, places where each
        word is a name, the start of the subdivision, or the country ("Portland
        Maine", "paris fr": 3). Ties go to the more populous place. SQLite and
        PostgreSQL give the same rows in the same order.
        """
        q = " ".join((q or "").split())
        if not q:
            return self
        folded = normalise(q)
        if not folded:
            return self.none()
        names = CityName.objects.using(self.db)
        # Words that say nothing alone ("-", "St") only count within the whole of `q`.
        words = [w for w in query_words(q) if normalise(w) and normalise(w) not in SAINT_WORDS]
        if len(words) > 1:
            # The whole of `q` in a name, or every word somewhere and one at least in a
            # name: the places with a name matching `q` or a word (a union of index
            # lookups) are read, and checked word by word.
            whole = names.matching(folded).order_by().values("city_id")
            by_name = [
                names.matching(normalise(word)).order_by().values("city_id") for word in words
            ]
            queryset = self.filter(pk__in=whole.union(*by_name))
            for word, named in zip(words, by_name, strict=True):
                # A word too short to be looked up inside names ("di" in "Monaco di
                # Baviera") is found by the whole of `q`.
                condition = Q(pk__in=named) | Q(pk__in=whole) | Q(subdivision__istartswith=word)
                codes = countries_named(word)
                if codes:
                    condition |= Q(country__in=codes)
                queryset = queryset.filter(condition)
        else:
            queryset = self.filter(pk__in=names.matching(folded).values("city_id"))
        return queryset.annotate(match=names.best_match(folded)).order_by(
            "match", F("population").desc(nulls_last=True), "name", "pk"
        )


class CityManager(models.Manager.from_queryset(CityQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class City(CatalogueRecord):
    name = models.CharField(max_length=200, db_index=True)
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
    # Rows edited on its admin page, reviewed with it (citydiplo/review.py).
    review_children = ("names",)

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
            # The city list's default order (name, country, id), walked in order for a
            # page of 50: sorting Europe's 12,000 cities first made SQLite work out the
            # list's per-city counts for every one of them (45 against 10 ms,
            # bench/README.md).
            models.Index(fields=["review_state", "name", "country"], name="city_names_idx"),
            # Covers the city list's facets' one grouped pass (country, kind, capital),
            # read from the index alone and already grouped (80 against 12 ms for all
            # published cities on SQLite).
            models.Index(
                fields=["review_state", "country", "kind", "is_capital"], name="city_groups_idx"
            ),
        ]

    def __str__(self):
        if self.subdivision:
            return f"{self.name} ({self.subdivision}, {self.country.code})"
        return f"{self.name} ({self.country.code})"

    def get_absolute_url(self):
        return reverse("cities:city-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    def label(self):
        """'Springfield (Illinois, United States of America)': namesakes told apart."""
        where = ", ".join(part for part in (self.subdivision, str(self.country.name)) if part)
        return f"{self.name} ({where})"

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


class NameSource(models.TextChoices):
    MAIN = "main", "Main name"
    GEONAMES = "geonames", "GeoNames"
    IMPORT = "import", "Imported list"
    EDITOR = "editor", "Editor"


#: "Did you mean": how many names are compared, and how alike they must be.
CLOSEST_CANDIDATES = 2000
CLOSEST_SIMILARITY = 0.3


def prefix_condition(folded, vendor):
    """Normalised names starting with `folded`, through an index: on SQLite a range of
    the index on `folded` (its LIKE with ESCAPE uses none), on PostgreSQL LIKE 'x%'
    (the pattern index)."""
    if vendor == "sqlite":
        return Q(folded__gte=folded, folded__lt=prefix_end(folded))
    return Q(folded__startswith=folded)


def match_case(folded):
    """0, 1 or 2 for a normalised name equal to, starting with or containing `folded`."""
    return Case(
        When(folded=folded, then=Value(0)),
        When(folded__startswith=folded, then=Value(1)),
        default=Value(2),
    )


#: The SQLite FTS5 trigram index of CityName.folded (migration cities 0005).
FTS_TABLE = "cities_cityname_fts"
#: Shorter queries match names equal to or starting with them only (an index of
#: three-letter pieces cannot find a name containing one or two letters).
CONTAINS_MIN_LENGTH = 3


class CityNameQuerySet(models.QuerySet):
    def matching(self, folded):
        """Names equal to, starting with or containing the normalised `folded`, each
        annotated with `match`: 0, 1 or 2 in that order.

        Served by indexes: SQLite's FTS5 trigram table, PostgreSQL's trigram index
        (contains) and pattern index (starts with), and the index on `folded`.
        """
        if not folded:
            return self.none()
        sqlite = connections[self.db].vendor == "sqlite"
        if len(folded) >= CONTAINS_MIN_LENGTH:
            if sqlite:
                # A phrase of trigrams: the rows containing `folded` (letters and digits
                # only, so nothing in it needs quoting).
                condition = Q(
                    pk__in=RawSQL(
                        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                        [f'"{folded}"'],
                    )
                )
            else:
                condition = Q(folded__contains=folded)
        else:
            condition = prefix_condition(folded, connections[self.db].vendor)
        return self.filter(condition).annotate(match=match_case(folded))

    def best_match(self, folded, *fields):
        """The best `match` of the places in `fields` (their `pk` by default; on a
        record linking two places, both its place fields), as an expression: 0 for a
        name equal to `folded`, 1 starting with it, 2 containing it, else WORDS_MATCH.

        Three uncorrelated subqueries of the names, each read once through the
        indexes and then looked up: cheaper than reading every place's names.
        """
        vendor = connections[self.db].vendor
        fields = fields or ("pk",)
        groups = (
            (0, self.filter(folded=folded)),
            (1, self.filter(prefix_condition(folded, vendor))),
            (2, self.matching(folded)),
        )
        whens = []
        for match, names in groups:
            cities = names.order_by().values("city_id")
            condition = Q()
            for field in fields:
                condition |= Q(**{f"{field}__in": cities})
            whens.append(When(condition, then=Value(match)))
        return Case(*whens, default=Value(WORDS_MATCH))

    def closest(self, q, limit=3):
        """Up to `limit` (name, city) pairs spelt most like `q`, for "Did you mean ...?":
        published places only, one name per place, most similar first (trigram
        similarity as pg_trgm computes it; the more populous place on a tie).

        The candidates are the names that begin with the same letter as `q`, are about
        as long, and share two letters in a row with it: a range of the index on
        `folded`, the same on both databases, so both suggest the same names.
        """
        folded = normalise(q)
        if len(folded) < CONTAINS_MIN_LENGTH:
            return []
        pairs = Q()
        for start in range(len(folded) - 1):
            pairs |= Q(folded__contains=folded[start : start + 2])
        candidates = (
            self.filter(
                prefix_condition(folded[0], connections[self.db].vendor),
                pairs,
                city__review_state=ReviewState.PUBLISHED,
            )
            .annotate(length=Length("folded"))
            .filter(length__gte=len(folded) - 2, length__lte=len(folded) + 2)
            .values_list("name", "folded", "city_id")[:CLOSEST_CANDIDATES]
        )
        scored = sorted(
            (-similarity(folded, other), name, city_id) for name, other, city_id in candidates
        )
        best = {}
        for score, name, city_id in scored:
            if -score >= CLOSEST_SIMILARITY and city_id not in best:
                best[city_id] = name
        cities = City.objects.in_bulk(list(best)[: limit * 3])
        found = [(best[pk], cities[pk]) for pk in list(best)[: limit * 3] if pk in cities]
        found.sort(
            key=lambda pair: (-similarity(folded, normalise(pair[0])), -(pair[1].population or 0))
        )
        return found[:limit]

    def add(self, names, source):
        """Add `names` [(city id, name)] from `source`, in bulk; a name a city already
        has in any spelling that normalises alike is left out. Returns the rows added,
        as (city id, name, normalised name, source).
        """
        names = [(city_id, " ".join(name.split())[:200]) for city_id, name in names]
        city_ids = sorted({city_id for city_id, _ in names})
        present, known = set(), set()  # (city, name) and (city, normalised name)
        for start in range(0, len(city_ids), 500):
            chunk = city_ids[start : start + 500]
            rows = self.filter(city__in=chunk).values_list("city_id", "name", "folded")
            for city_id, name, folded in rows:
                present.add((city_id, name))
                known.add((city_id, folded))
        rows = []
        for city_id, name in names:
            if (city_id, name) in present:  # a second load: nothing to normalise
                continue
            folded = normalise(name)
            if folded and (city_id, folded) not in known:
                known.add((city_id, folded))
                rows.append((city_id, name, folded, source))
        self.insert_rows(rows)
        return rows

    def insert_rows(self, rows):
        """INSERT `rows` [(city id, name, folded, source)], skipping a (city, name) the
        table holds already: bulk_create(ignore_conflicts=True) written out, because
        building and compiling a model instance per name took 1.73 s (CPU) of the
        44,534 GeoNames names of a first `load_catalogue`, against 0.57 s for these
        multi-row INSERTs (bench/README.md, "load_catalogue")."""
        connection = connections[self.db]
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(CityName._meta.get_field(name).column)
            for name in ("city", "name", "folded", "source")
        )
        batch = (connection.features.max_query_params or 4000) // 4
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {quote(CityName._meta.db_table)} ({columns}) "
                    f"VALUES {values} ON CONFLICT DO NOTHING",
                    [value for row in chunk for value in row],
                )

    def sync_main_names(self, cities):
        """Make each of `cities` (a City queryset) have its current name as its main
        name: the rows that bulk writes (imports, the catalogue loader) leave behind.
        """
        current = dict(cities.values_list("pk", "name"))
        stale, missing = [], dict(current)
        for pk, city_id, name in self.filter(
            source=NameSource.MAIN, city__in=cities.values("pk")
        ).values_list("pk", "city_id", "name"):
            if current.get(city_id) == name:
                missing.pop(city_id, None)
            else:
                stale.append(pk)
        if stale:
            self.filter(pk__in=stale).delete()
        if not missing:
            return
        # A name the city has from elsewhere becomes its main name.
        same = self.filter(city__in=list(missing)).values_list("pk", "city_id", "name")
        promoted = [pk for pk, city_id, name in same if missing.get(city_id) == name]
        self.filter(pk__in=promoted).update(source=NameSource.MAIN)
        promoted_cities = set(self.filter(pk__in=promoted).values_list("city_id", flat=True))
        self.bulk_create(
            [
                CityName(city_id=city_id, name=name, folded=normalise(name), source=NameSource.MAIN)
                for city_id, name in missing.items()
                if city_id not in promoted_cities and normalise(name)
            ],
            batch_size=1000,
        )


class CityName(models.Model):
    """A name a place goes by: its main name, exonyms (Munich, Monaco di Baviera),
    other spellings (Kiev) and former names (Leningrad), in any script.

    `folded` is the name as `cities.names.normalise` writes it: what search compares,
    on SQLite through an FTS5 trigram table and on PostgreSQL through trigram indexes
    (migration cities 0005).
    """

    city = models.ForeignKey(City, models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    folded = models.CharField(max_length=200, editable=False)
    source = models.CharField(max_length=10, choices=NameSource.choices, default=NameSource.EDITOR)

    objects = CityNameQuerySet.as_manager()

    class Meta:
        ordering = ["city", "name"]
        verbose_name = "name"
        verbose_name_plural = "names"
        constraints = [
            models.UniqueConstraint(fields=["city", "name"], name="cityname_city_name_unique"),
            models.CheckConstraint(
                condition=~models.Q(folded=""), name="cityname_folded_not_empty"
            ),
            choice_constraint("cityname", "source", NameSource),
        ]
        indexes = [models.Index(fields=["folded"], name="cityname_folded_idx")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The normalised form goes with every write of the name (bulk writes set it
        # themselves: CityNameQuerySet.add).
        self.folded = normalise(self.name)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.name and not normalise(self.name):
            raise ValidationError({"name": "A name needs at least one letter or digit."})


@receiver(post_save, sender=City)
def keep_main_name(sender, instance, created=False, raw=False, **kwargs):
    """A city saved one by one (the admin, scripts) keeps its main name in step.

    A city just inserted has no names yet (they point at it): its main name is one
    INSERT, not the four queries that compare a saved city's names with its name.
    """
    if raw:
        return
    if created:
        if normalise(instance.name):
            CityName.objects.create(city=instance, name=instance.name, source=NameSource.MAIN)
        return
    CityName.objects.sync_main_names(City.objects.filter(pk=instance.pk))


class OtherNames(models.Expression):
    """A place's names besides its main one, one a line, in order: a correlated
    subquery of CityName, for downloads and the API (`alternate_names`)."""

    output_field = models.TextField()

    def as_sql(self, compiler, connection):
        city = f"{compiler.quote_name_unless_alias(compiler.query.get_initial_alias())}.id"
        where = f"n.city_id = {city} AND n.source <> '{NameSource.MAIN}'"
        if connection.vendor == "postgresql":
            joined = "STRING_AGG(n.name, E'\\n' ORDER BY n.name)"
        else:  # read through the (city, name) index: in name order
            joined = "GROUP_CONCAT(n.name, char(10))"
        return f"(SELECT {joined} FROM cities_cityname n WHERE {where})", []
