"""Bulk import in the admin: preview, confirm, all or nothing, history."""

import base64
import io
import itertools
import os
import tempfile

import pytest
import tablib
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.models import Membership, Theme, Twinning
from activities.resources import SUGGESTIONS_PER_FILE
from activities.uploads import SESSION_KEY
from cities.models import City
from citydiplo.models import PendingChange
from tests.records import without_history

from .test_admin import client_for

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


def test_preview_and_import_leave_nothing_in_the_temp_folder(
    editor_client, three_cities, source, tmp_path, monkeypatch
):
    # A temp folder of the test's own: the browser tests of the other worker write theirs
    # into the system one at the same time.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
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


# Large files: checked row by row in Python, written in bulk -------------------------


def twinnings_file(pairs, **cells):
    """A twinnings CSV of `pairs` of slugs, every row with the same other `cells`."""
    header = ["city_a", "city_b", *cells]
    lines = [",".join(header)]
    lines += [",".join([a, b, *map(str, cells.values())]) for a, b in pairs]
    return "\n".join(lines) + "\n"


@pytest.fixture
def many_cities(make_city):
    """25 places: 300 pairs. Without history rows (tests/records.py): no test of them
    reads the places' history."""
    make_city = without_history(make_city)
    return [make_city(f"Place {n}", "FR", slug=f"place-{n}-fr") for n in range(25)]


@without_history
def write_existing_twinnings(by_slug, pairs, source):
    """The twinnings of `pairs`, each with a source and a conflicting value, written
    without history rows (3.4 s with them for 300, here): the preview of a file that
    updates them reads their links and inline rows, not their history."""
    for a, b in pairs:
        twinning = Twinning.objects.create(city_a=by_slug[a], city_b=by_slug[b])
        twinning.sources.add(source)
        twinning.conflicting_values.create(field="start", value="1989")


def all_pairs(cities, count):
    return list(itertools.combinations([c.slug for c in cities], 2))[:count]


def test_a_file_of_hundreds_of_rows_is_written_with_links_and_history(
    chief_client, chief_editor, many_cities, source
):
    theme = Theme.objects.create(name="Peace", slug="peace", field="security")
    pairs = all_pairs(many_cities, 300)
    content = twinnings_file(
        pairs,
        kind="sister_city",
        start_year=1990,
        status="active",
        themes="peace",
        sources="test-source",
        review_state="published",
    )
    response = preview(chief_client, "twinning", "many.csv", content)
    result = response.context["result"]
    assert (result.totals["new"], len(result.invalid_rows)) == (300, 0)
    assert Twinning.objects.count() == 0
    page = response.content.decode()
    assert "The first 100 rows are shown; 200 more follow in the file." in page
    assert page.count('<tr class="new">') == 100

    response = confirm(chief_client, "twinning", response)
    assert response.status_code == 302
    twinnings = Twinning.objects.select_related("city_a", "city_b").prefetch_related(
        "sources", "themes"
    )
    assert {(t.city_a.slug, t.city_b.slug) for t in twinnings} == set(pairs)
    for twinning in twinnings:
        assert (twinning.kind, twinning.start_year, twinning.review_state) == (
            "sister_city",
            1990,
            "published",
        )
        # What save() would have set: each side's name and country, version 1.
        assert (twinning.name_a, twinning.country_a, twinning.version) == (
            twinning.city_a.name,
            "FR",
            1,
        )
        assert list(twinning.sources.all()) == [source]
        assert list(twinning.themes.all()) == [theme]
    history = Twinning.history.all()
    assert history.count() == 300
    assert {(h.history_type, h.history_user, h.history_change_reason) for h in history} == {
        ("+", chief_editor, "Imported from many.csv")
    }
    # Each history row keeps the links, for a revert.
    for row in history[:5]:
        assert [link.source_id for link in row.sources.all()] == [source.pk]
        assert [link.theme_id for link in row.themes.all()] == [theme.pk]
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 300
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Import finished: 300 new, 0 updated and 0 unchanged twinnings." in messages


@pytest.mark.parametrize("existing", [False, True], ids=["new", "updates"])
@pytest.mark.parametrize("rows", [10, 300])
def test_a_preview_runs_the_same_queries_for_ten_or_three_hundred_rows(
    chief_client, many_cities, source, rows, existing, django_assert_max_num_queries
):
    pairs = all_pairs(many_cities, rows)
    if existing:  # each with its links and inline rows, read for the whole file at once
        write_existing_twinnings({city.slug: city for city in many_cities}, pairs, source)
    content = twinnings_file(
        pairs,
        kind="sister_city",
        start_year=1990,
        status="active",
        sources="test-source",
        review_state="published",
    )
    with django_assert_max_num_queries(26):
        response = preview(chief_client, "twinning", "t.csv", content)
    totals = response.context["result"].totals
    assert (totals["update"] if existing else totals["new"]) == rows


@pytest.mark.parametrize("rows", [10, 300])
def test_a_refused_file_runs_the_same_queries_for_ten_or_three_hundred_rows(
    editor_client, many_cities, source, rows, django_assert_max_num_queries
):
    content = twinnings_file(
        [(a, f"plaice-{n}-fr") for n, (a, _) in enumerate(all_pairs(many_cities, rows))],
        kind="twin_town",
        start_year=1990,
        sources="test-source;no-such-source",
    )
    # A "did you mean" is a query per unknown key, for so many keys of a file.
    with django_assert_max_num_queries(26 + SUGGESTIONS_PER_FILE):
        response = preview(editor_client, "twinning", "t.csv", content)
    invalid = response.context["result"].invalid_rows
    assert len(invalid) == rows
    assert "did you mean “place-0-fr”?" in str(invalid[0].error_dict["city_b"])
    if rows > SUGGESTIONS_PER_FILE:  # beyond them, unknown keys are named without a guess
        assert "No city with the slug “plaice-299-fr”." in str(invalid[-1].error_dict["city_b"])


def test_an_editors_file_makes_drafts_and_changes_for_review(
    editor, chief_editor, make_city, source, twinned_pair
):
    coventry, volgograd = twinned_pair.city_a, twinned_pair.city_b
    lyon = make_city("Lyon", "FR", slug="lyon-fr")
    rome = make_city("Rome", "IT", slug="rome-it")
    draft = Twinning.objects.create(city_a=lyon, city_b=rome, review_state="draft")
    untouched = Twinning.objects.create(city_a=lyon, city_b=coventry, start_year=1950)
    untouched.sources.add(source)
    untouched_history = untouched.history.count()
    content = TWINNINGS_HEADER + (
        "rome-it,coventry-gb,twin_town,1956,active,,test-source,published\n"  # new
        "volgograd-ru,coventry-gb,sister_city,1944,active,,test-source,\n"  # published
        "lyon-fr,rome-it,partner_city,1980,active,,test-source,\n"  # a draft
        "coventry-gb,lyon-fr,twin_town,1950,active,,test-source,\n"  # no change
    )
    client = client_for(editor)
    response = preview(client, "twinning", "mixed.csv", content)
    assert [row.import_type for row in response.context["result"].rows] == [
        "new",
        "update",
        "update",
        "skip",
    ]
    assert "new records are drafts" in response.content.decode()
    response = confirm(client, "twinning", response)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 change(s) to published records wait for a chief editor's review" in messages[0]

    new = Twinning.objects.get(city_a=rome, city_b=coventry)
    assert new.review_state == "draft"  # an editor cannot publish, even by a file
    twinned_pair.refresh_from_db()
    assert (twinned_pair.kind, twinned_pair.version) == ("twin_town", 1)  # unchanged
    draft.refresh_from_db()  # editors change drafts directly
    assert (draft.kind, draft.start_year, draft.version) == ("partner_city", 1980, 2)
    assert list(draft.sources.all()) == [source]
    assert draft.history.first().history_user == editor
    untouched.refresh_from_db()
    assert untouched.version == 1 and untouched.history.count() == untouched_history

    change = PendingChange.objects.get()
    assert (change.object_id, change.author, change.reason) == (
        twinned_pair.pk,
        editor,
        "Imported from mixed.csv",
    )
    page = client_for(chief_editor).get(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
    )
    assert "Sister city" in page.content.decode()
    client_for(chief_editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    twinned_pair.refresh_from_db()
    assert (twinned_pair.kind, twinned_pair.city_a, twinned_pair.city_b) == (
        "sister_city",
        coventry,
        volgograd,
    )


def test_a_chief_editors_file_publishes_and_updates_at_once(
    chief_editor, make_city, source, twinned_pair
):
    make_city("Rome", "IT", slug="rome-it")
    content = TWINNINGS_HEADER + (
        "rome-it,coventry-gb,twin_town,1956,active,,test-source,published\n"
        "volgograd-ru,coventry-gb,sister_city,1944,active,,test-source,\n"
    )
    client = client_for(chief_editor)
    confirm(client, "twinning", preview(client, "twinning", "chief.csv", content))
    assert Twinning.objects.get(city_b__slug="coventry-gb", city_a__slug="rome-it").is_published
    twinned_pair.refresh_from_db()
    assert (twinned_pair.kind, twinned_pair.review_state, twinned_pair.version) == (
        "sister_city",
        "published",
        2,
    )
    assert twinned_pair.history.first().history_user == chief_editor
    assert PendingChange.objects.count() == 0


def test_every_twinning_constraint_is_checked_beside_its_row(chief_client, make_city, source):
    """The bulk import checks rows without asking the database (activities/resources.py,
    BulkCatalogueResource): each constraint of the model is caught in Python all the
    same. A new constraint fails here until a row that breaks it is listed."""
    places = [make_city(f"Town {n}", "FR", slug=f"town-{n}-fr").slug for n in range(10)]
    header = "city_a,city_b,kind,start_year,start_on,start_precision,status,status_year,status_on"
    breaking = {
        "twinning_not_with_itself": (
            [f"{places[0]},{places[0]},twin_town,1956,,,active,,"],
            "city_b",
        ),
        "twinning_pair_unique_either_order": (
            [
                f"{places[0]},{places[1]},twin_town,1956,,,active,,",
                f"{places[1]},{places[0]},twin_town,1956,,,active,,",
            ],
            "city_b",
        ),
        "twinning_status_year_not_before_start_year": (
            [f"{places[0]},{places[2]},twin_town,1960,,,suspended,1950,"],
            "status_year",
        ),
        "twinning_status_on_not_before_start_on": (
            [f"{places[0]},{places[3]},twin_town,1960,1960-05-01,day,suspended,1960,1960-01-01"],
            "status_on",
        ),
        "twinning_kind_valid": ([f"{places[0]},{places[4]},nope,1956,,,active,,"], "kind"),
        "twinning_status_valid": ([f"{places[0]},{places[5]},twin_town,1956,,,nope,,"], "status"),
        "twinning_start_precision_valid": (
            [f"{places[0]},{places[6]},twin_town,1956,,week,active,,"],
            "start_precision",
        ),
        "twinning_review_state_valid": (
            [f"{places[0]},{places[7]},twin_town,1956,,,active,,"],
            "review_state",
        ),
    }
    assert set(breaking) == {c.name for c in Twinning._meta.constraints}
    lines, expected = [], {}
    for name, (rows, field) in breaking.items():
        lines += rows
        expected[len(lines)] = (name, field)  # the last row of each breaks the rule
    review_states = ["nope" if n == len(lines) else "" for n in range(1, len(lines) + 1)]
    content = (
        header
        + ",sources,review_state\n"
        + "".join(
            f"{line},test-source,{state}\n"
            for line, state in zip(lines, review_states, strict=True)
        )
    )
    response = preview(chief_client, "twinning", "rules.csv", content)
    invalid = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    for number, (name, field) in expected.items():
        assert field in invalid.get(number, {}), (name, invalid.get(number))
    assert Twinning.objects.count() == 0


def test_every_membership_constraint_is_checked_beside_its_row(
    chief_client, network, make_city, source
):
    places = [make_city(f"Town {n}", "FR", slug=f"town-{n}-fr").slug for n in range(5)]
    breaking = {
        "membership_one_per_city_and_network": (
            [f"test-network,{places[0]},member,1990,", f"test-network,{places[0]},member,1991,"],
            "city",
        ),
        "membership_left_year_not_before_joined_year": (
            [f"test-network,{places[1]},member,1990,1980"],
            "left_year",
        ),
        "membership_role_valid": ([f"test-network,{places[2]},nope,1990,"], "role"),
        "membership_review_state_valid": (
            [f"test-network,{places[3]},member,1990,"],
            "review_state",
        ),
    }
    assert set(breaking) == {c.name for c in Membership._meta.constraints}
    lines, expected = [], {}
    for name, (rows, field) in breaking.items():
        lines += rows
        expected[len(lines)] = (name, field)
    content = "network,city,role,joined_year,left_year,sources,review_state\n" + "".join(
        f"{line},test-source,{'nope' if n == len(lines) else ''}\n"
        for n, line in enumerate(lines, 1)
    )
    response = preview(chief_client, "membership", "rules.csv", content)
    invalid = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    for number, (name, field) in expected.items():
        assert field in invalid.get(number, {}), (name, invalid.get(number))
    assert Membership.objects.count() == 0


def test_a_blank_city_is_a_row_error_not_a_crash(editor_client, make_city, source):
    make_city("Rome", "IT", slug="rome-it")
    content = TWINNINGS_HEADER + "rome-it,,twin_town,1956,active,,test-source,\n"
    response = preview(editor_client, "twinning", "t.csv", content)
    (row,) = response.context["result"].invalid_rows
    assert "city_b" in row.error_dict
    assert not response.context["result"].has_errors()


def test_a_long_list_of_errors_shows_its_first_rows_and_the_count(editor_client, many_cities):
    content = twinnings_file(
        [(a, a) for a, _ in all_pairs(many_cities, 300)], kind="twin_town", start_year=1990
    )
    response = preview(editor_client, "twinning", "t.csv", content)
    page = response.content.decode()
    assert "Nothing can be imported: 300 of 300 rows have errors" in page
    assert "The first 200 are shown; 100 more rows have errors too." in page
    assert page.count("A place cannot be twinned with itself.") == 200
