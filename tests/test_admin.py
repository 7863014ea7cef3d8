"""The editors' workflow in the admin: roles, review state, validation, history."""

import datetime
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities.models import Membership, Network, Twinning
from cities.models import City

ADD_TWINNING = reverse("admin:activities_twinning_add")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def twinning_form(city_a, city_b, **fields):
    data = {
        "city_a": city_a.pk,
        "city_b": city_b.pk,
        "kind": "twin_town",
        "start_year": "1956",
        "start_on": "",
        "start_precision": "",
        "status": "active",
        "status_year": "",
        "status_on": "",
        "status_reason": "",
        "status_act": "",
        "notes": "",
        "change_reason": "",
        "review_state": "draft",
        # The other values sources give (ConflictingValueInline): none.
        "conflicting_values-TOTAL_FORMS": "0",
        "conflicting_values-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.fixture
def rome_and_paris(make_city):
    return make_city("Rome", "IT", slug="rome-it"), make_city("Paris", "FR", slug="paris-fr")


def history_rows():
    return Twinning.history.count()


# Roles ---------------------------------------------------------------------------------


def test_migration_creates_editor_roles(db):
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    chiefs = set(
        Group.objects.get(name="Chief editors").permissions.values_list("codename", flat=True)
    )
    assert {"add_twinning", "change_twinning", "view_twinning", "add_source", "change_theme"} <= (
        editors
    )
    assert not any(code.startswith(("delete_", "publish_")) for code in editors)
    assert not any("user" in code or "group" in code for code in editors | chiefs)
    assert {"delete_twinning", "publish_twinning", "publish_city"} <= chiefs
    assert editors < chiefs
    # A city's other names, edited on its page (activities 0011_i12imp_...).
    assert {"add_cityname", "change_cityname"} <= editors
    assert "delete_cityname" in chiefs


def test_editor_adds_a_draft_twinning_that_public_pages_do_not_show(
    editor_client, editor, rome_and_paris, source
):
    rome, paris = rome_and_paris
    response = editor_client.post(
        ADD_TWINNING,
        twinning_form(rome, paris, sources=[source.pk], review_state="published"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    twinning = Twinning.objects.get()
    assert twinning.review_state == "draft"  # the editor cannot publish by posting it
    assert Client().get(twinning.get_absolute_url()).status_code == 404
    assert Twinning.objects.published().count() == 0


def test_chief_editor_publishes_and_the_twinning_appears(
    editor, chief_editor, rome_and_paris, source
):
    rome, paris = rome_and_paris
    client_for(editor).post(ADD_TWINNING, twinning_form(rome, paris, sources=[source.pk]))
    twinning = Twinning.objects.get()
    assert Client().get(twinning.get_absolute_url()).status_code == 404

    response = client_for(chief_editor).post(
        reverse("admin:activities_twinning_changelist"),
        {"action": "publish", "_selected_action": [twinning.pk]},
    )
    assert response.status_code == 302
    twinning.refresh_from_db()
    assert twinning.review_state == "published"
    assert Client().get(twinning.get_absolute_url()).status_code == 200
    latest = twinning.history.first()
    assert (latest.history_user, latest.history_change_reason) == (chief_editor, "Published")


def test_publish_action_refuses_a_record_without_source(chief_client, make_city):
    twinning = Twinning.objects.create(city_a=make_city(), city_b=make_city(), review_state="draft")
    response = chief_client.post(
        reverse("admin:activities_twinning_changelist"),
        {"action": "publish", "_selected_action": [twinning.pk]},
        follow=True,
    )
    twinning.refresh_from_db()
    assert twinning.review_state == "draft"
    assert "no source cited" in response.content.decode()


def test_editor_cannot_publish(editor_client, make_city, source):
    twinning = Twinning.objects.create(city_a=make_city(), city_b=make_city(), review_state="draft")
    twinning.sources.add(source)
    changelist = editor_client.get(reverse("admin:activities_twinning_changelist"))
    assert changelist.context["action_form"] is None  # neither publish nor delete
    editor_client.post(
        reverse("admin:activities_twinning_changelist"),
        {"action": "publish", "_selected_action": [twinning.pk]},
    )
    change = reverse("admin:activities_twinning_change", args=[twinning.pk])
    editor_client.post(
        change,
        twinning_form(
            twinning.city_a, twinning.city_b, sources=[source.pk], review_state="published"
        ),
    )
    twinning.refresh_from_db()
    assert twinning.review_state == "draft"
    assert "review_state" not in editor_client.get(change).context["adminform"].form.fields


def test_editor_cannot_delete(editor_client, twinned_pair):
    url = reverse("admin:activities_twinning_delete", args=[twinned_pair.pk])
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url, {"post": "yes"}).status_code == 403
    assert Twinning.objects.filter(pk=twinned_pair.pk).exists()


def test_chief_editor_can_delete(chief_client, twinned_pair):
    url = reverse("admin:activities_twinning_delete", args=[twinned_pair.pk])
    assert chief_client.post(url, {"post": "yes"}).status_code == 302
    assert not Twinning.objects.filter(pk=twinned_pair.pk).exists()


@pytest.mark.parametrize(
    "name",
    [
        "admin:auth_user_changelist",
        "admin:auth_group_changelist",
        "admin:auth_user_add",
        "admin:auth_group_add",
    ],
)
def test_editor_cannot_open_users_and_groups(editor_client, name):
    assert editor_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("url", ["/admin/", ADD_TWINNING, "/admin/auth/user/"])
def test_admin_needs_a_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('admin:login')}?next=")


def test_editor_sees_every_model_and_the_state_filter(editor_client):
    index = editor_client.get(reverse("admin:index"))
    for model in [
        "city",
        "twinning",
        "network",
        "membership",
        "agreement",
        "activity",
        "source",
        "theme",
    ]:
        app = "cities" if model == "city" else "activities"
        assert reverse(f"admin:{app}_{model}_changelist") in index.content.decode()
    changelist = editor_client.get(reverse("admin:activities_twinning_changelist"))
    assert "review_state" in changelist.content.decode()


# Validation ------------------------------------------------------------------------------


def assert_rejected(response, field, text):
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert text in " ".join(errors[field])


def test_same_pair_in_either_order_names_and_links_the_existing_record(
    chief_client, twinned_pair, source
):
    before = (Twinning.objects.count(), history_rows())
    response = chief_client.post(
        ADD_TWINNING,
        twinning_form(twinned_pair.city_b, twinned_pair.city_a, sources=[source.pk]),
    )
    assert_rejected(response, "city_b", "already twinned")
    link = reverse("admin:activities_twinning_change", args=[twinned_pair.pk])
    assert f'<a href="{link}">Coventry – Volgograd</a>' in response.content.decode()
    assert (Twinning.objects.count(), history_rows()) == before


def test_twinning_cannot_pair_city_with_itself(chief_client, make_city, source):
    city = make_city()
    response = chief_client.post(ADD_TWINNING, twinning_form(city, city, sources=[source.pk]))
    assert_rejected(response, "city_b", "cannot be twinned with itself")
    assert (Twinning.objects.count(), history_rows()) == (0, 0)


def test_status_change_cannot_come_before_the_start(chief_client, rome_and_paris, source):
    rome, paris = rome_and_paris
    response = chief_client.post(
        ADD_TWINNING,
        twinning_form(rome, paris, sources=[source.pk], status="suspended", status_year="1950"),
    )
    assert_rejected(response, "status_year", "before the twinning started")
    assert (Twinning.objects.count(), history_rows()) == (0, 0)


def test_network_cannot_close_before_it_was_founded(chief_client, source):
    response = chief_client.post(
        reverse("admin:activities_network_add"),
        {
            **network_form("Closing Cities"),
            "founded_year": "2000",
            "closed_year": "1990",
            "sources": [source.pk],
        },
    )
    assert_rejected(response, "closed_year", "cannot close before it was founded")
    assert Network.objects.count() == 0


def test_date_in_the_future_is_refused(chief_client, rome_and_paris, source):
    rome, paris = rome_and_paris
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = chief_client.post(
        ADD_TWINNING,
        twinning_form(
            rome,
            paris,
            sources=[source.pk],
            start_year=str(tomorrow.year),
            start_on=tomorrow.isoformat(),
            start_precision="day",
        ),
    )
    assert_rejected(response, "start_on", "in the future")
    assert (Twinning.objects.count(), history_rows()) == (0, 0)


def test_published_record_needs_a_source(chief_client, rome_and_paris):
    rome, paris = rome_and_paris
    response = chief_client.post(ADD_TWINNING, twinning_form(rome, paris, review_state="published"))
    assert_rejected(response, "sources", "cites at least one source")
    assert (Twinning.objects.count(), history_rows()) == (0, 0)
    # The same record as a draft is accepted.
    response = chief_client.post(ADD_TWINNING, twinning_form(rome, paris, review_state="draft"))
    assert response.status_code == 302
    assert Twinning.objects.get().review_state == "draft"


def city_form(name, country, **fields):
    data = {
        "name": name,
        "alternate_names": "",
        "slug": "",
        "country": country,
        "subdivision": "",
        "kind": "city",
        "latitude": "",
        "longitude": "",
        "population": "",
        "population_year": "",
        "geonames_id": "",
        "wikidata_id": "",
        "summary": "",
        "notes": "",
        "change_reason": "",
        "review_state": "draft",
    }
    for prefix in ["names", "Source_cities", "twinnings_as_a", "twinnings_as_b", "memberships"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(fields)
    return data


def test_published_city_needs_a_source(chief_client, source):
    url = reverse("admin:cities_city_add")
    response = chief_client.post(url, city_form("Lyon", "FR", review_state="published"))
    assert response.status_code == 200
    formset_errors = [fs.non_form_errors() for fs in response.context["inline_admin_formsets"]]
    assert "cites at least one source" in str(formset_errors)
    assert City.objects.count() == 0

    with_source = city_form(
        "Lyon",
        "FR",
        review_state="published",
        **{"Source_cities-TOTAL_FORMS": "1", "Source_cities-0-source": source.pk},
    )
    assert chief_client.post(url, with_source).status_code == 302
    lyon = City.objects.get()
    assert (lyon.slug, lyon.review_state, list(lyon.sources.all())) == (
        "lyon-fr",
        "published",
        [source],
    )


def test_editor_city_is_a_draft_with_a_unique_slug(editor_client, make_city):
    make_city("Lyon", "FR", slug="lyon-fr")
    response = editor_client.post(reverse("admin:cities_city_add"), city_form("Lyon", "FR"))
    assert response.status_code == 302
    lyon = City.objects.get(slug="lyon-fr-2")
    assert lyon.review_state == "draft"


def network_form(name, **fields):
    data = {
        "name": name,
        "acronym": "",
        "slug": "",
        "founded_year": "",
        "founded_on": "",
        "founded_precision": "",
        "closed_year": "",
        "closed_on": "",
        "closed_precision": "",
        "scope": "global",
        "region_covered": "",
        "website": "",
        "summary": "",
        "member_count": "",
        "member_count_year": "",
        "notes": "",
        "change_reason": "",
        "review_state": "draft",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_network_slugs_are_filled_and_unique(chief_client):
    url = reverse("admin:activities_network_add")
    assert chief_client.post(url, network_form("Mayors for Peace")).status_code == 302
    assert chief_client.post(url, network_form("Mayors for Peace")).status_code == 302
    assert sorted(Network.objects.values_list("slug", flat=True)) == [
        "mayors-for-peace",
        "mayors-for-peace-2",
    ]


def test_editor_membership_added_inline_is_a_draft(editor_client, network, make_city, source):
    # On a draft network: on a published one the change waits for review (test_review.py).
    Network.objects.filter(pk=network.pk).update(review_state="draft")
    city = make_city()
    url = reverse("admin:activities_network_change", args=[network.pk])
    data = network_form(network.name, slug=network.slug, founded_year="1990", sources=[source.pk])
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-city": city.pk,
            "memberships-0-role": "member",
            "memberships-0-network": network.pk,
            "memberships-0-sources": [source.pk],
            "change_reason": "Member list 2024",
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    membership = Membership.objects.get()
    assert membership.review_state == "draft"
    assert membership.history.get().history_change_reason == "Member list 2024"


# Search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["Köln", "Cologne", "germany", "DE"])
def test_city_autocomplete_finds_cities_by_name_alternate_name_and_country(
    editor_client, make_city, term
):
    cologne = make_city("Köln", "DE", alternate_names="Cologne")
    make_city("Lille", "FR")
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "activities", "model_name": "twinning", "field_name": "city_a", "term": term},
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(cologne.pk)]


# History -----------------------------------------------------------------------------------


def test_admin_saves_write_history_with_user_reason_and_changes(
    editor_client, editor, rome_and_paris, source
):
    rome, paris = rome_and_paris
    editor_client.post(
        ADD_TWINNING,
        twinning_form(rome, paris, sources=[source.pk], change_reason="Le Monde, 1956"),
    )
    twinning = Twinning.objects.get()
    change = reverse("admin:activities_twinning_change", args=[twinning.pk])
    editor_client.post(
        change,
        twinning_form(
            rome, paris, sources=[source.pk], start_year="1955", change_reason="Rai gives 1955"
        ),
    )
    new, old = twinning.history.all()[:2]
    assert (new.history_type, new.history_user, new.history_change_reason) == (
        "~",
        editor,
        "Rai gives 1955",
    )
    assert (old.history_type, old.history_change_reason) == ("+", "Le Monde, 1956")
    delta = new.diff_against(old)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("start_year", 1956, 1955)]

    history_page = editor_client.get(
        reverse("admin:activities_twinning_history", args=[twinning.pk])
    )
    assert history_page.status_code == 200
    assert "Rai gives 1955" in history_page.content.decode()


def test_only_a_chief_editor_reverts(editor, chief_editor, rome_and_paris, source):
    rome, paris = rome_and_paris
    twinning = Twinning.objects.create(
        city_a=rome, city_b=paris, start_year=1956, review_state="draft"
    )
    twinning.sources.add(source)
    first_version = twinning.history.first()  # with its source (links are history too)
    twinning.start_year = 1955
    twinning.save()
    revert_url = reverse(
        "admin:activities_twinning_simple_history",
        args=[twinning.pk, first_version.history_id],
    )
    data = twinning_form(rome, paris, sources=[source.pk], start_year="1956")

    editor_client = client_for(editor)
    page = editor_client.get(revert_url)
    assert page.status_code == 200 and page.context["revert_disabled"]
    assert editor_client.post(revert_url, data).status_code == 403
    twinning.refresh_from_db()
    assert twinning.start_year == 1955

    chief = client_for(chief_editor)
    assert not chief.get(revert_url).context["revert_disabled"]
    assert chief.post(revert_url, data).status_code == 302
    twinning.refresh_from_db()
    assert twinning.start_year == 1956
    latest = twinning.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        chief_editor,
        "Reverted to an earlier version",
    )


def catalogue_fixture(path, coventry_name="Coventry"):
    records = [
        {
            "model": "activities.source",
            "fields": {
                "key": "wiki-coventry",
                "title": "Coventry",
                "url": "https://example.org/c",
                "kind": "reference",
            },
        },
        {
            "model": "cities.city",
            "fields": {
                "name": coventry_name,
                "slug": "coventry-gb",
                "country": "GB",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            },
        },
        {
            "model": "cities.city",
            "fields": {
                "name": "Volgograd",
                "slug": "volgograd-ru",
                "country": "RU",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            },
        },
        {
            "model": "activities.twinning",
            "fields": {
                "city_a": ["coventry-gb"],
                "city_b": ["volgograd-ru"],
                "start_year": 1944,
                "sources": [["wiki-coventry"]],
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            },
        },
    ]
    path.write_text(json.dumps(records))
    return str(path)


def test_load_catalogue_writes_history_for_what_it_changes(db, tmp_path):
    fixture = catalogue_fixture(tmp_path / "catalogue.json")
    call_command("load_catalogue", "--fixture", fixture, verbosity=0)
    assert City.history.filter(history_type="+").count() == 2
    assert Twinning.history.filter(history_type="+").count() == 1
    assert City.history.first().history_change_reason == "load_catalogue"

    call_command("load_catalogue", "--fixture", fixture, verbosity=0)  # unchanged
    assert (City.history.count(), Twinning.history.count()) == (2, 1)

    renamed = catalogue_fixture(tmp_path / "renamed.json", coventry_name="City of Coventry")
    call_command("load_catalogue", "--fixture", renamed, verbosity=0)
    change = City.history.get(history_type="~")
    assert (change.slug, change.name) == ("coventry-gb", "City of Coventry")
    assert change.diff_against(change.prev_record).changed_fields == ["name"]


# The create_editor command ---------------------------------------------------------------


def test_create_editor_makes_staff_accounts_in_the_right_group(db, django_user_model):
    call_command(
        "create_editor",
        "ada",
        "--password",
        "a long passphrase 42",
        "--email",
        "ada@example.org",
        stdout=StringIO(),
    )
    call_command(
        "create_editor", "grace", "--chief", "--password", "another long one 17", stdout=StringIO()
    )
    ada = django_user_model.objects.get(username="ada")
    grace = django_user_model.objects.get(username="grace")
    assert ada.is_staff and not ada.is_superuser and ada.email == "ada@example.org"
    assert [g.name for g in ada.groups.all()] == ["Editors"]
    assert [g.name for g in grace.groups.all()] == ["Chief editors"]
    assert ada.check_password("a long passphrase 42")
    assert ada.has_perm("activities.add_twinning")
    assert not ada.has_perm("activities.publish_twinning")
    assert grace.has_perm("activities.publish_twinning")


def test_create_editor_reads_the_password_from_the_environment(db, monkeypatch, django_user_model):
    monkeypatch.setenv("CITYDIPLO_EDITOR_PASSWORD", "from the environment 9")
    call_command("create_editor", "lin", stdout=StringIO())
    assert django_user_model.objects.get(username="lin").check_password("from the environment 9")


def test_create_editor_refuses_weak_passwords_and_duplicates(db, editor):
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_editor", "bob", "--password", "123")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_editor", "editor", "--password", "a long passphrase 42")
