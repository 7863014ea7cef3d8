"""History covers every link of a record, a revert restores them, and the history
screen reads like an editor's log: labels, one reason column, who did what."""

import pytest
from django.urls import reverse

from activities.models import Activity, Source, Theme, Twinning

from .test_admin import client_for, twinning_form


@pytest.fixture
def second_source(db):
    return Source.objects.create(
        key="second", title="Second source", url="https://example.org/2", kind="news"
    )


@pytest.fixture
def peace(db):
    return Theme.objects.create(name="Peace", slug="peace", field="politics")


def change_twinning(client, twinning, **fields):
    data = twinning_form(twinning.city_a, twinning.city_b, start_year="1944")
    data.update(fields)
    return client.post(reverse("admin:activities_twinning_change", args=[twinning.pk]), data)


def test_one_admin_save_writes_one_history_row_with_its_links(
    chief_editor, twinned_pair, second_source, peace
):
    before = twinned_pair.history.count()
    response = change_twinning(
        client_for(chief_editor),
        twinned_pair,
        review_state="published",
        sources=[second_source.pk],
        themes=[peace.pk],
        change_reason="New source",
    )
    assert response.status_code == 302
    assert twinned_pair.history.count() == before + 1
    latest = twinned_pair.history.first()
    assert [s.source_id for s in latest.sources.all()] == [second_source.pk]
    assert [t.theme_id for t in latest.themes.all()] == [peace.pk]
    assert (latest.history_user, latest.history_change_reason) == (chief_editor, "New source")


def test_revert_restores_sources_and_themes(
    chief_editor, twinned_pair, source, second_source, peace
):
    chief = client_for(chief_editor)
    change_twinning(
        chief, twinned_pair, review_state="published", sources=[source.pk], themes=[peace.pk]
    )
    version = twinned_pair.history.first()
    change_twinning(chief, twinned_pair, review_state="published", sources=[second_source.pk])
    assert list(twinned_pair.sources.all()) == [second_source]
    assert list(twinned_pair.themes.all()) == []

    url = reverse(
        "admin:activities_twinning_simple_history", args=[twinned_pair.pk, version.history_id]
    )
    form = chief.get(url).context["adminform"].form
    assert list(form.initial["sources"]) == [source.pk]
    data = twinning_form(
        twinned_pair.city_a,
        twinned_pair.city_b,
        start_year="1944",
        review_state="published",
        sources=form.initial["sources"],
        themes=form.initial["themes"],
    )
    assert chief.post(url, data).status_code == 302
    twinned_pair.refresh_from_db()
    assert list(twinned_pair.sources.all()) == [source]
    assert list(twinned_pair.themes.all()) == [peace]
    latest = twinned_pair.history.first()
    assert latest.history_change_reason == "Reverted to an earlier version"
    assert [s.source_id for s in latest.sources.all()] == [source.pk]


def test_revert_restores_partner_cities(chief_editor, make_city, source):
    lead, partner, other = make_city("Lead"), make_city("Partner"), make_city("Other")
    activity = Activity.objects.create(
        title="Programme", slug="programme", kind="development", lead_city=lead
    )
    activity.sources.add(source)
    activity.partner_cities.add(partner)
    version = activity.history.first()
    activity.partner_cities.set([other])
    chief = client_for(chief_editor)
    url = reverse(
        "admin:activities_activity_simple_history", args=[activity.pk, version.history_id]
    )
    form = chief.get(url).context["adminform"].form
    assert list(form.initial["partner_cities"]) == [partner.pk]


def test_history_screen_shows_labels_one_reason_column_and_who(
    chief_editor, twinned_pair, second_source
):
    chief = client_for(chief_editor)
    change_twinning(
        chief,
        twinned_pair,
        review_state="published",
        kind="sister_city",
        sources=[second_source.pk],
        change_reason="Council minutes",
    )
    page = chief.get(reverse("admin:activities_twinning_history", args=[twinned_pair.pk]))
    html = page.content.decode()
    assert "Twin town" in html and "Sister city" in html
    assert "twin_town" not in html and "sister_city" not in html
    assert html.count("Council minutes") == 1
    assert html.count(">Change reason<") == 1
    assert "chief" in html  # who
    assert "Second source" in html  # links by name
    assert "Updated at" not in html


def test_loaded_records_history_has_their_links(db, tmp_path):
    from .test_loading import load, write_catalogue

    load(write_catalogue(tmp_path / "c.json"))
    twinning = Twinning.objects.get()
    assert [s.source_id for s in twinning.history.first().sources.all()] == [
        twinning.sources.get().pk
    ]
