"""Database constraints reject what must never happen, on SQLite and PostgreSQL."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from activities.models import (
    Activity,
    Agreement,
    AgreementParty,
    Membership,
    Network,
    Theme,
    Twinning,
)
from cities.models import City
from cities.regions import Region


def assert_integrity_error(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_twinning_cannot_pair_city_with_itself(make_city):
    city = make_city()
    assert_integrity_error(lambda: Twinning.objects.create(city_a=city, city_b=city))
    assert Twinning.objects.count() == 0


def test_twinning_pair_cannot_be_stored_twice(twinned_pair):
    assert_integrity_error(
        lambda: Twinning.objects.create(city_a=twinned_pair.city_a, city_b=twinned_pair.city_b)
    )


def test_twinning_reversed_pair_is_rejected(twinned_pair):
    assert_integrity_error(
        lambda: Twinning.objects.create(city_a=twinned_pair.city_b, city_b=twinned_pair.city_a)
    )
    assert Twinning.objects.count() == 1


def test_twinning_status_change_cannot_precede_start(make_city):
    a, b = make_city(), make_city()
    assert_integrity_error(
        lambda: Twinning.objects.create(
            city_a=a, city_b=b, start_year=2000, status="suspended", status_year=1999
        )
    )


def test_twinning_status_date_cannot_precede_start_date(make_city):
    import datetime

    a, b = make_city(), make_city()
    assert_integrity_error(
        lambda: Twinning.objects.create(
            city_a=a,
            city_b=b,
            start_year=2000,
            start_on=datetime.date(2000, 5, 1),
            status="terminated",
            status_year=2000,
            status_on=datetime.date(2000, 4, 1),
        )
    )


@pytest.mark.parametrize(
    ("field", "value"), [("kind", "soulmates"), ("status", "frozen"), ("review_state", "x")]
)
def test_twinning_rejects_unknown_choice_values(make_city, field, value):
    a, b = make_city(), make_city()
    assert_integrity_error(lambda: Twinning.objects.create(city_a=a, city_b=b, **{field: value}))


def test_twinning_clean_names_the_problems(make_city):
    city = make_city()
    twinning = Twinning(city_a=city, city_b=city, start_year=2001, status="suspended")
    with pytest.raises(ValidationError) as excinfo:
        twinning.full_clean()
    assert "city_b" in excinfo.value.message_dict
    assert "status_year" in excinfo.value.message_dict


def test_twinning_found_from_either_city(twinned_pair):
    coventry, volgograd = twinned_pair.city_a, twinned_pair.city_b
    assert list(Twinning.objects.involving(volgograd)) == [twinned_pair]
    assert list(Twinning.objects.between(volgograd, coventry)) == [twinned_pair]
    assert twinned_pair.partner_of(volgograd) == coventry


def test_city_latitude_out_of_range_is_rejected(db):
    assert_integrity_error(
        lambda: City.objects.create(
            name="Nowhere", slug="nowhere-fr", country="FR", latitude=91, longitude=0
        )
    )


def test_city_longitude_out_of_range_is_rejected(db):
    assert_integrity_error(
        lambda: City.objects.create(
            name="Nowhere", slug="nowhere-fr", country="FR", latitude=0, longitude=-181
        )
    )


def test_city_slug_is_unique(make_city):
    make_city("Paris", slug="paris-fr")
    assert_integrity_error(lambda: make_city("Paris", slug="paris-fr"))


def test_city_geonames_and_wikidata_ids_are_unique_when_present(make_city):
    make_city(geonames_id=2988507, wikidata_id="Q90")
    assert_integrity_error(lambda: make_city(geonames_id=2988507))
    assert_integrity_error(lambda: make_city(wikidata_id="Q90"))
    make_city(wikidata_id="")
    make_city(wikidata_id="")
    assert City.objects.filter(wikidata_id="").count() == 2


def test_city_kind_must_be_known(db):
    assert_integrity_error(
        lambda: City.objects.create(name="X", slug="x-fr", country="FR", kind="village")
    )


def test_two_places_of_one_name_in_one_country_get_distinct_slugs(make_city):
    make_city("Portland", "US", slug=City.unique_slug("Portland", "US", "Oregon"))
    maine = City.unique_slug("Portland", "US", "Maine")
    assert maine == "portland-maine-us"
    assert City.objects.get().slug == "portland-us"


def test_city_region_is_derived_from_country(make_city):
    assert make_city(country="XK").region == Region.EUROPE
    assert make_city(country="BR").region == Region.SOUTH_AMERICA
    kenyan = make_city(country="KE")
    assert list(City.objects.in_region(Region.AFRICA)) == [kenyan]


def test_membership_is_unique_per_city_and_network(network, make_city):
    city = make_city()
    Membership.objects.create(network=network, city=city)
    assert_integrity_error(lambda: Membership.objects.create(network=network, city=city))


def test_membership_cannot_end_before_it_starts(network, make_city):
    assert_integrity_error(
        lambda: Membership.objects.create(
            network=network, city=make_city(), joined_year=2010, left_year=2009
        )
    )


def test_membership_role_must_be_known(network, make_city):
    assert_integrity_error(
        lambda: Membership.objects.create(network=network, city=make_city(), role="king")
    )


def test_network_cannot_close_before_founding(db):
    assert_integrity_error(
        lambda: Network.objects.create(
            name="N", slug="n", scope="global", founded_year=2000, closed_year=1990
        )
    )


def test_network_scope_must_be_known(db):
    assert_integrity_error(lambda: Network.objects.create(name="N", slug="n", scope="galactic"))


def test_agreement_status_cannot_change_before_signing(db):
    assert_integrity_error(
        lambda: Agreement.objects.create(
            title="A", slug="a", kind="pact", signed_year=2015, status="expired", status_year=2014
        )
    )


def test_agreement_party_action_is_unique_and_known(make_city):
    agreement = Agreement.objects.create(title="A", slug="a", kind="pact")
    city = make_city()
    AgreementParty.objects.create(agreement=agreement, city=city, action="signed")
    AgreementParty.objects.create(agreement=agreement, city=city, action="withdrew")
    assert_integrity_error(
        lambda: AgreementParty.objects.create(agreement=agreement, city=city, action="signed")
    )
    assert_integrity_error(
        lambda: AgreementParty.objects.create(agreement=agreement, city=city, action="vetoed")
    )
    assert list(agreement.cities.distinct()) == [city]


def test_activity_cannot_end_before_it_starts(db):
    assert_integrity_error(
        lambda: Activity.objects.create(
            title="A", slug="a", kind="summit", start_year=2010, end_year=2009
        )
    )


def test_activity_budget_needs_a_currency(db):
    assert_integrity_error(
        lambda: Activity.objects.create(title="A", slug="a", kind="development", budget=1000)
    )


def test_theme_field_must_be_one_of_the_five(db):
    assert_integrity_error(lambda: Theme.objects.create(name="T", slug="t", field="sports"))


def test_public_querysets_show_published_records_only(make_city):
    make_city("Shown")
    make_city("Hidden", review_state="draft")
    assert [c.name for c in City.objects.published()] == ["Shown"]


def test_records_have_readable_str_and_urls(twinned_pair, network):
    assert str(twinned_pair) == "Coventry – Volgograd"
    assert twinned_pair.get_absolute_url() == f"/twinnings/{twinned_pair.pk}/"
    assert twinned_pair.city_a.get_absolute_url() == "/cities/coventry-gb/"
    assert network.get_absolute_url() == "/networks/test-network/"
    assert str(twinned_pair.city_a) == "Coventry (GB)"


def test_record_urls_keep_the_script_prefix(twinned_pair):
    from django.urls import clear_script_prefix, set_script_prefix

    set_script_prefix("/catalogue/")
    try:
        assert twinned_pair.get_absolute_url() == f"/catalogue/twinnings/{twinned_pair.pk}/"
        assert twinned_pair.city_a.get_absolute_url() == "/catalogue/cities/coventry-gb/"
    finally:
        clear_script_prefix()
    assert twinned_pair.city_a.get_absolute_url() == "/cities/coventry-gb/"


def test_published_memberships_need_a_published_city_and_network(network, make_city):
    from activities.models import Membership

    shown = Membership.objects.create(network=network, city=make_city())
    Membership.objects.create(network=network, city=make_city(review_state="draft"))
    draft_network = Network.objects.create(
        name="Draft Network", slug="draft-network", scope="global", review_state="draft"
    )
    Membership.objects.create(network=draft_network, city=make_city())
    assert list(Membership.objects.published()) == [shown]


def test_a_twinning_knows_each_sides_country_whatever_the_write(make_city):
    from activities.models import Twinning

    lyon, leipzig, nagoya = make_city("Lyon", "FR"), make_city("Leipzig", "DE"), make_city()
    twinning = Twinning.objects.create(city_a=lyon, city_b=leipzig)
    assert (twinning.country_a, twinning.country_b) == ("FR", "DE")
    nagoya.country = "JP"
    nagoya.save()
    twinning.city_b = nagoya
    twinning.save(update_fields=["city_b"])
    twinning.refresh_from_db()
    assert twinning.country_b == "JP"
    lyon.country = "BE"  # a correction through the admin: save() and its signal
    lyon.save()
    assert Twinning.objects.get(pk=twinning.pk).country_a == "BE"
    [bulk] = Twinning.objects.bulk_create([Twinning(city_a=leipzig, city_b=lyon)])
    Twinning.objects.filter(pk=bulk.pk).refresh_sides()
    assert list(Twinning.objects.in_countries(["DE"])) == [bulk]
