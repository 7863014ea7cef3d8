"""Bulk import in the admin: preview, confirm, all or nothing, history."""

import base64
import io
import os
import tempfile

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.models import Membership, Twinning
from activities.uploads import SESSION_KEY
from cities.models import City
from citydiplo.models import PendingChange

CSV, XLSX = "0", "1"  # positions in CatalogueImportMixin.import_formats

TWINNINGS_HEADER = "city_a,city_b,kind,start_year,status,status_year,sources,review_state\n"


def upload(name, content):
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content)


def preview(client, model, name, content, file_format=CSV):
    app = "cities" if model == "city" else "activities"
    return client.post(
        reverse(f"admin:{app}_{model}_import"),
        {"import_file": upload(name, content), "format": file_format, "resource": "0"},
    )


def confirm(client, model, response):
    app = "cities" if model == "city" else "activities"
    return client.post(
        reverse(f"admin:{app}_{model}_process_import"),
        response.context["confirm_form"].initial,
    )


def counts():
    return (
        City.objects.count(),
        City.history.count(),
        Twinning.objects.count(),
        Twinning.history.count(),
        Membership.objects.count(),
        Membership.history.count(),
    )


@pytest.fixture
def three_cities(make_city):
    return [
        make_city("Rome", "IT", slug="rome-it"),
        make_city("Paris", "FR", slug="paris-fr"),
        make_city("Kyoto", "JP", slug="kyoto-jp"),
    ]


def test_good_twinnings_file_previews_then_writes_exactly_its_rows(
    editor_client, editor, three_cities, source
):
    before = counts()
    content = (
        TWINNINGS_HEADER
        + "rome-it,paris-fr,twin_town,1956,active,,test-source,\n"
        + "kyoto-jp,paris-fr,partner_city,1958,active,,test-source,published\n"
    )
    response = preview(editor_client, "twinning", "twinnings.csv", content)
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new", "new"]
    assert response.context["confirm_form"] is not None
    assert counts() == before  # the preview writes nothing

    response = confirm(editor_client, "twinning", response)
    assert response.status_code == 302
    pairs = {
        (t.city_a.slug, t.city_b.slug, t.start_year, t.review_state) for t in Twinning.objects.all()
    }
    assert pairs == {
        ("rome-it", "paris-fr", 1956, "draft"),
        ("kyoto-jp", "paris-fr", 1958, "draft"),  # an editor's import is a draft
    }
    assert all(list(t.sources.all()) == [source] for t in Twinning.objects.all())
    history = list(Twinning.history.all())
    assert len(history) == 2
    assert {(h.history_type, h.history_user, h.history_change_reason) for h in history} == {
        ("+", editor, "Imported from twinnings.csv")
    }


def test_a_bad_row_rejects_the_whole_file_with_reasons(editor_client, three_cities, source):
    before = counts()
    content = (
        TWINNINGS_HEADER
        + "rome-it,paris-fr,twin_town,1956,active,,test-source,\n"
        + "rome-it,atlantis-xx,twin_town,1960,active,,test-source,\n"
        + "kyoto-jp,kyoto-jp,twin_town,1960,active,,test-source,\n"
        + "kyoto-jp,rome-it,twin_town,1960,active,,no-such-source,\n"
        + "paris-fr,kyoto-jp,twin_town,1960,suspended,1950,test-source,\n"
        + "paris-fr,rome-it,twin_town,1956,active,,test-source,\n"
    )
    response = preview(editor_client, "twinning", "bad.csv", content)
    assert response.status_code == 200
    result = response.context["result"]
    assert response.context.get("confirm_form") is None
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4, 5, 6}
    assert "No city with the slug “atlantis-xx”" in str(invalid[2]["city_b"])
    assert "cannot be twinned with itself" in str(invalid[3])
    assert "Unknown sources: no-such-source" in str(invalid[4]["sources"])
    assert "before the twinning started" in str(invalid[5]["status_year"])
    assert "already in row 1" in str(invalid[6]["city_b"])
    page = response.content.decode()
    assert "atlantis-xx" in page and "no-such-source" in page
    assert counts() == before


def test_confirming_a_bad_file_writes_nothing(editor_client, three_cities, source):
    """Even a forged confirm step, skipping the preview, writes no row of a bad file."""
    good = TWINNINGS_HEADER + "rome-it,paris-fr,twin_town,1956,active,,test-source,\n"
    response = preview(editor_client, "twinning", "t.csv", good)
    initial = response.context["confirm_form"].initial
    # Replace the stored upload (in the session) with one whose second row is bad.
    bad = good + "rome-it,atlantis-xx,twin_town,1960,active,,test-source,\n"
    session = editor_client.session
    session[SESSION_KEY] = {
        "name": initial["import_file_name"],
        "data": base64.b64encode(bad.encode()).decode(),
    }
    session.save()
    before = counts()
    response = editor_client.post(
        reverse("admin:activities_twinning_process_import"), initial, follow=True
    )
    assert "Nothing was imported" in response.content.decode()
    assert counts() == before


def test_a_pair_in_the_other_order_updates_the_existing_twinning(
    chief_client, chief_editor, twinned_pair
):
    before = Twinning.objects.count()
    content = TWINNINGS_HEADER + (
        "volgograd-ru,coventry-gb,twin_town,1944,suspended,2022,test-source,published\n"
    )
    response = preview(chief_client, "twinning", "update.csv", content)
    assert [row.import_type for row in response.context["result"].rows] == ["update"]
    confirm(chief_client, "twinning", response)
    twinned_pair.refresh_from_db()
    assert Twinning.objects.count() == before
    assert (twinned_pair.status, twinned_pair.status_year, twinned_pair.review_state) == (
        "suspended",
        2022,
        "published",
    )
    latest = twinned_pair.history.first()
    assert (latest.history_type, latest.history_user) == ("~", chief_editor)


def test_chief_editor_cannot_import_a_published_row_without_source(chief_client, three_cities):
    content = TWINNINGS_HEADER + "rome-it,paris-fr,twin_town,1956,active,,,published\n"
    response = preview(chief_client, "twinning", "t.csv", content)
    (row,) = response.context["result"].invalid_rows
    assert "cites at least one source" in str(row.error_dict["sources"])
    assert Twinning.objects.count() == 0


def test_cities_import_creates_and_updates_by_slug(editor_client, make_city, source):
    rome = make_city("Roma", "IT", slug="rome-it", review_state="published")
    rome.sources.add(source)
    content = (
        "slug,name,country,kind,alternate_names,sources\n"
        "rome-it,Rome,IT,city,Roma,test-source\n"
        ",Bologna,it,city,,test-source\n"
    )
    response = preview(editor_client, "city", "cities.csv", content)
    assert [row.import_type for row in response.context["result"].rows] == ["update", "new"]
    assert City.objects.count() == 1
    confirm(editor_client, "city", response)
    rome.refresh_from_db()
    bologna = City.objects.get(slug="bologna-it")
    # An editor's update of a published city waits for review (tests/test_review.py).
    assert (rome.name, rome.review_state) == ("Roma", "published")
    assert PendingChange.objects.get().after["fields"]["name"] == "Rome"
    assert (bologna.country.code, bologna.review_state) == ("IT", "draft")
    assert list(bologna.sources.all()) == [source]
    assert City.history.filter(history_change_reason="Imported from cities.csv").count() == 1


def test_memberships_import_by_network_and_city_slug(editor_client, network, make_city, source):
    lyon = make_city("Lyon", "FR", slug="lyon-fr")
    content = (
        "network,city,role,joined_year,sources\n"
        "test-network,lyon-fr,founding_member,1990,test-source\n"
        "no-network,lyon-fr,member,1990,test-source\n"
    )
    response = preview(editor_client, "membership", "m.csv", content)
    (row,) = response.context["result"].invalid_rows
    assert "No network with the slug “no-network”" in str(row.error_dict["network"])
    assert Membership.objects.count() == 0

    good = "\n".join(content.splitlines()[:2]) + "\n"
    confirm(editor_client, "membership", preview(editor_client, "membership", "m.csv", good))
    membership = Membership.objects.get()
    assert (membership.city, membership.network, membership.role) == (
        lyon,
        network,
        "founding_member",
    )
    assert membership.history.count() == 1


def test_xlsx_import(editor_client, three_cities, source):
    dataset = tablib.Dataset(headers=["city_a", "city_b", "kind", "start_year", "sources"])
    dataset.append(["rome-it", "kyoto-jp", "partner_city", 1990, "test-source"])
    buffer = io.BytesIO(dataset.export("xlsx"))
    response = preview(editor_client, "twinning", "t.xlsx", buffer.getvalue(), XLSX)
    confirm(editor_client, "twinning", response)
    assert Twinning.objects.get().city_b.slug == "kyoto-jp"


def test_users_without_add_permission_cannot_import(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(viewer)
    assert client.get(reverse("admin:activities_twinning_import")).status_code == 403


# Uploads: size, temp folder, whose file, hints --------------------------------------


def temp_files():
    return set(os.listdir(tempfile.gettempdir()))


def test_preview_and_import_leave_nothing_in_the_temp_folder(editor_client, three_cities, source):
    before = temp_files()
    content = TWINNINGS_HEADER + "rome-it,paris-fr,twin_town,1956,active,,test-source,\n"
    response = preview(editor_client, "twinning", "t.csv", content)
    assert temp_files() - before == set()
    confirm(editor_client, "twinning", response)
    assert temp_files() - before == set()
    assert Twinning.objects.count() == 1
    assert SESSION_KEY not in editor_client.session  # the upload is gone once imported


def test_an_upload_above_the_limit_is_refused_with_a_message(editor_client, settings, db):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    content = TWINNINGS_HEADER + "rome-it,paris-fr,twin_town,1956,active,,,\n" * 30_000
    response = preview(editor_client, "twinning", "big.csv", content)
    assert response.status_code == 200
    assert "imports are limited to 1 MB" in response.content.decode()
    assert Twinning.objects.count() == 0


def test_the_file_name_field_names_only_the_uploaders_own_upload(
    editor_client, chief_editor, three_cities, source
):
    from django.test import Client

    content = TWINNINGS_HEADER + "rome-it,paris-fr,twin_town,1956,active,,test-source,\n"
    response = preview(editor_client, "twinning", "t.csv", content)
    initial = response.context["confirm_form"].initial
    other = Client()
    other.force_login(chief_editor)
    for name in (initial["import_file_name"], "../../etc/passwd", "t.csv"):
        forged = other.post(
            reverse("admin:activities_twinning_process_import"),
            {**initial, "import_file_name": name},
            follow=True,
        )
        assert "no longer waiting to be imported" in forged.content.decode()
    assert Twinning.objects.count() == 0
    # The uploader can still import their own.
    confirm(editor_client, "twinning", response)
    assert Twinning.objects.count() == 1


def test_an_unknown_city_slug_suggests_the_likely_city(editor_client, make_city, source):
    make_city("Munich", "DE", slug="munich-de", alternate_names="München\nMuenchen")
    make_city("Lyon", "FR", slug="lyon-fr")
    content = TWINNINGS_HEADER + (
        "munchen-de,lyon-fr,twin_town,1956,active,,test-source,\n"
        "munik-de,lyon-fr,twin_town,1956,active,,test-source,\n"
    )
    response = preview(editor_client, "twinning", "t.csv", content)
    html = response.content.decode()
    assert "No city with the slug “munchen-de”: did you mean “munich-de”?" in html
    assert "No city with the slug “munik-de”: did you mean “munich-de”?" in html
