"""Conflicting sources kept side by side: the model, the record pages, the disputed-date
filter, the export column and the admin inline."""

import csv
import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from activities.models import AgreementParty, ConflictingValue, Membership, Source, Twinning


@pytest.fixture
def frankfurt_lyon(make_city):
    """Frankfurt–Lyon as frankfurt.de gives it: 8 October 1960 on the city's partnership
    page, 15 October 1960 in the table of its English city-partnerships page."""
    frankfurt = make_city("Frankfurt am Main", "DE", slug="frankfurt-am-main-de")
    lyon = make_city("Lyon", "FR", slug="lyon-fr")
    german = Source.objects.create(
        key="frankfurt-partnerstaedte",
        title="Partnerstädte",
        url="https://frankfurt.de/service-und-rathaus/verwaltung/aemter-und-institutionen/"
        "referat-fuer-internationale-angelegenheiten/partnerstaedte",
        publisher="Stadt Frankfurt am Main",
        kind="official",
    )
    english = Source.objects.create(
        key="frankfurt-city-partnerships-en",
        title="City Partnerships",
        url="https://frankfurt.de/english/international-city/international-affairs/"
        "city-partnerships",
        publisher="City of Frankfurt am Main",
        kind="official",
    )
    twinning = Twinning.objects.create(
        city_a=frankfurt,
        city_b=lyon,
        kind="partner_city",
        start_year=1960,
        start_on=datetime.date(1960, 10, 8),
        start_precision="day",
    )
    twinning.sources.add(german)
    other = ConflictingValue.objects.create(twinning=twinning, field="start", value="1960-10-15")
    other.sources.add(english)
    return twinning


# The model -------------------------------------------------------------------------------


def test_a_conflicting_value_keeps_its_own_source_beside_the_records(frankfurt_lyon):
    other = frankfurt_lyon.conflicting_values.get()
    assert other.record == frankfurt_lyon
    assert other.value_display == "15 October 1960"
    assert other.current_display == "8 October 1960"
    assert other.source_keys == ["frankfurt-city-partnerships-en"]
    assert [s.key for s in frankfurt_lyon.sources.all()] == ["frankfurt-partnerstaedte"]
    assert str(other.as_export()) == "start=1960-10-15 (frankfurt-city-partnerships-en)"


def test_a_conflicting_value_belongs_to_exactly_one_record(twinned_pair, network):
    membership = Membership.objects.create(network=network, city=twinned_pair.city_a)
    with pytest.raises(ValidationError, match="Name one record"):
        ConflictingValue(field="start", value="1945").full_clean()
    with transaction.atomic(), pytest.raises(IntegrityError):
        ConflictingValue.objects.create(
            twinning=twinned_pair, membership=membership, field="start", value="1945"
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start", "1944", "already uses"),
        ("start", "44", "not YYYY"),
        ("start", "1944-13", "not a real date"),
        ("start", "2999", "future"),
        ("status", "paused", "status is one of"),
        ("kind", "cousin_city", "kind is one of"),
        ("joined_year", "2001", "disputed field is one of"),
    ],
)
def test_a_conflicting_value_is_checked_against_its_field(twinned_pair, field, value, message):
    other = ConflictingValue(twinning=twinned_pair, field=field, value=value)
    with pytest.raises(ValidationError, match=message):
        other.full_clean(exclude=["sources"])


def test_membership_and_party_years_can_be_disputed(network, make_city):
    from activities.models import Agreement

    city = make_city("Lyon", "FR")
    membership = Membership.objects.create(network=network, city=city, joined_year=1990)
    ConflictingValue(membership=membership, field="joined_year", value="1989").full_clean(
        exclude=["sources"]
    )
    with pytest.raises(ValidationError, match="not a year"):
        ConflictingValue(membership=membership, field="left_year", value="soon").full_clean(
            exclude=["sources"]
        )
    pact = Agreement.objects.create(title="Pact", slug="pact", kind="pact", signed_year=2015)
    party = AgreementParty.objects.create(agreement=pact, city=city, year=2015)
    ConflictingValue(party=party, field="year", value="2016").full_clean(exclude=["sources"])


def test_one_record_holds_one_other_value_once(frankfurt_lyon):
    with transaction.atomic(), pytest.raises(IntegrityError):
        ConflictingValue.objects.create(twinning=frankfurt_lyon, field="start", value="1960-10-15")


# The record's page -----------------------------------------------------------------------


def test_twinning_page_shows_the_value_used_and_the_other_each_with_its_source(
    client, frankfurt_lyon
):
    html = client.get(frankfurt_lyon.get_absolute_url()).content.decode()
    assert "Where sources disagree" in html
    table = html.split('id="disputes-heading"', 1)[1].split("</table>", 1)[0]
    used, other = table.split("</tbody>")[0].split("<td")[1:3]
    assert "8 October 1960" in used and "Partnerstädte" in used
    assert "City Partnerships" not in used
    assert "15 October 1960" in other and "City Partnerships" in other


def test_a_twinning_without_conflicts_shows_no_dispute(client, twinned_pair):
    html = client.get(twinned_pair.get_absolute_url()).content.decode()
    assert "Where sources disagree" not in html


def test_network_page_shows_another_join_year_and_filters_on_it(client, network, make_city):
    lyon, lille = make_city("Lyon", "FR"), make_city("Lille", "FR")
    disputed = Membership.objects.create(network=network, city=lyon, joined_year=1990)
    Membership.objects.create(network=network, city=lille, joined_year=1991)
    other = ConflictingValue.objects.create(membership=disputed, field="joined_year", value="1989")
    other.sources.add(Source.objects.get(key="test-source"))
    html = client.get(network.get_absolute_url()).content.decode()
    assert "other source: 1989" in html
    assert "Lille" in html
    only = client.get(network.get_absolute_url() + "?disputed=1").content.decode()
    assert "Lyon" in only and "Lille" not in only


# The list's filter and the export column -------------------------------------------------


def test_disputed_filter_keeps_the_twinnings_whose_date_sources_dispute(
    client, frankfurt_lyon, twinned_pair
):
    url = reverse("activities:twinning-list")
    html = client.get(url + "?disputed=start").content.decode()
    assert "Frankfurt am Main" in html and "Volgograd" not in html
    assert client.get(url + "?disputed=status").context["paginator"].count == 0
    assert client.get(url + "?disputed=any").context["paginator"].count == 1
    assert client.get(url).context["paginator"].count == 2
    assert set(Twinning.objects.disputed("start")) == {frankfurt_lyon}


def test_exports_carry_the_other_values(client, frankfurt_lyon, twinned_pair):
    url = reverse("activities:twinning-list")
    response = client.get(url + "?format=csv&ordering=city_a")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_city = {row["city_a"]: row["other_values"] for row in rows}
    assert by_city == {
        "coventry-gb": "",
        "frankfurt-am-main-de": "start=1960-10-15 (frankfurt-city-partnerships-en)",
    }
    response = client.get(url + "?format=json&disputed=start")
    results = json.loads(b"".join(response.streaming_content))["results"]
    assert [r["other_values"] for r in results] == [
        [
            {
                "field": "start",
                "value": "1960-10-15",
                "sources": ["frankfurt-city-partnerships-en"],
                "notes": "",
            }
        ]
    ]


# The admin -------------------------------------------------------------------------------


def test_admin_edits_conflicting_values_inline(admin_client, frankfurt_lyon):
    url = reverse("admin:activities_twinning_change", args=[frankfurt_lyon.pk])
    html = admin_client.get(url).content.decode()
    assert "conflicting_values-0-value" in html
    assert 'value="1960-10-15"' in html


def test_an_editor_records_another_sources_value_and_a_chief_approves_it(
    editor, chief_editor, twinned_pair, source
):
    from citydiplo.models import PendingChange

    from .test_admin import client_for, twinning_form

    url = reverse("admin:activities_twinning_change", args=[twinned_pair.pk])
    editor_client = client_for(editor)
    assert "conflicting_values-TOTAL_FORMS" in editor_client.get(url).content.decode()
    data = twinning_form(
        twinned_pair.city_a,
        twinned_pair.city_b,
        start_year=str(twinned_pair.start_year or ""),
        kind=twinned_pair.kind,
        sources=[s.pk for s in twinned_pair.sources.all()],
        change_reason="Council minutes give 1957",
        **{
            "conflicting_values-TOTAL_FORMS": "1",
            "conflicting_values-0-field": "start",
            "conflicting_values-0-value": "1957",
            "conflicting_values-0-sources": [source.pk],
            "conflicting_values-0-notes": "",
        },
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    assert not twinned_pair.conflicting_values.exists()  # published: it waits for review
    change = PendingChange.objects.get()
    client_for(chief_editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    value = twinned_pair.conflicting_values.get()
    assert (value.field, value.value, [s.key for s in value.sources.all()]) == (
        "start",
        "1957",
        [source.key],
    )
