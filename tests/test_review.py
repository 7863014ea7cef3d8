"""An editor's change to a published record waits for a chief editor: the public sees
the published version until it is approved."""

import pytest
from django.urls import reverse

from activities.models import Agreement, AgreementParty, Source, Twinning
from citydiplo.models import PendingChange

from .test_admin import city_form, client_for, twinning_form
from .test_admin_import import TWINNINGS_HEADER, confirm, preview


@pytest.fixture
def published_twinning(twinned_pair):
    return twinned_pair


@pytest.fixture
def other_source(db):
    return Source.objects.create(
        key="le-monde", title="Le Monde archive", url="https://example.org/lm", kind="news"
    )


def edit_twinning(client, twinning, **fields):
    data = twinning_form(
        twinning.city_a,
        twinning.city_b,
        start_year="1944",
        kind=twinning.kind,
        sources=[s.pk for s in twinning.sources.all()],
    )
    data.update(fields)
    return client.post(reverse("admin:activities_twinning_change", args=[twinning.pk]), data)


def public_page(client, twinning):
    client.logout()
    return client.get(twinning.get_absolute_url()).content.decode()


def test_editors_change_to_a_published_record_waits_for_review(
    editor, published_twinning, other_source, client
):
    editor_client = client_for(editor)
    response = edit_twinning(
        editor_client,
        published_twinning,
        kind="sister_city",
        notes="Revived in 2024.",
        sources=[other_source.pk],
        change_reason="Le Monde, 2024",
    )
    assert response.status_code == 302
    published_twinning.refresh_from_db()
    assert published_twinning.kind == "twin_town" and published_twinning.notes == ""
    assert [s.key for s in published_twinning.sources.all()] == ["test-source"]
    change = PendingChange.objects.get()
    assert (change.author, change.status, change.reason) == (editor, "pending", "Le Monde, 2024")
    # Public pages, exports and search still show the published version.
    assert "Revived in 2024" not in public_page(client, published_twinning)
    csv = client.get(reverse("activities:twinning-list") + "?format=csv")
    assert "sister_city" not in b"".join(csv.streaming_content).decode()
    # The editor sees that it waits.
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("waits for a chief editor's review" in m for m in messages)


def test_chief_sees_a_diff_in_labels_with_sources_and_approves(
    editor, chief_editor, published_twinning, other_source, client
):
    edit_twinning(
        client_for(editor),
        published_twinning,
        kind="sister_city",
        notes="Revived in 2024.",
        sources=[other_source.pk],
    )
    change = PendingChange.objects.get()
    chief = client_for(chief_editor)
    queue = chief.get(reverse("admin:citydiplo_pendingchange_changelist"), follow=True)
    assert "Coventry" in queue.content.decode()
    page = chief.get(reverse("admin:citydiplo_pendingchange_change", args=[change.pk]))
    html = page.content.decode()
    assert '<th scope="row">Kind</th><td>Twin town</td><td>Sister city</td>' in html
    assert "Test source" in html and "Le Monde archive" in html  # sources, by title
    assert "twin_town" not in html

    response = chief.post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]),
        {"_approve": "1", "review_reason": "Checked against Le Monde"},
    )
    assert response.status_code == 302
    published_twinning.refresh_from_db()
    assert published_twinning.kind == "sister_city"
    assert published_twinning.notes == "Revived in 2024."
    assert [s.key for s in published_twinning.sources.all()] == ["le-monde"]
    assert published_twinning.review_state == "published"
    latest = published_twinning.history.first()
    assert latest.history_user == chief_editor
    assert latest.history_change_reason.startswith("Approved change by editor")
    change.refresh_from_db()
    assert (change.status, change.reviewer, change.review_reason) == (
        "approved",
        chief_editor,
        "Checked against Le Monde",
    )
    assert "Revived in 2024" in public_page(client, published_twinning)


def test_chief_rejects_with_a_reason_and_the_editor_sees_it(
    editor, chief_editor, published_twinning
):
    edit_twinning(client_for(editor), published_twinning, notes="Wrong.")
    change = PendingChange.objects.get()
    chief = client_for(chief_editor)
    url = reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
    refused = chief.post(url, {"_reject": "1", "review_reason": ""})
    assert "Say why, for the editor." in refused.content.decode()
    chief.post(url, {"_reject": "1", "review_reason": "No source says so."})
    change.refresh_from_db()
    assert change.status == "rejected"
    published_twinning.refresh_from_db()
    assert published_twinning.notes == ""
    mine = client_for(editor).get(reverse("admin:citydiplo_pendingchange_changelist"))
    html = mine.content.decode()
    assert "Rejected" in html and "No source says so." in html


def test_editor_cannot_approve(editor, published_twinning):
    edit_twinning(client_for(editor), published_twinning, notes="Mine.")
    change = PendingChange.objects.get()
    response = client_for(editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    assert response.status_code == 403
    published_twinning.refresh_from_db()
    assert published_twinning.notes == ""


def test_approval_is_refused_when_the_record_changed_since(
    editor, chief_editor, published_twinning
):
    edit_twinning(client_for(editor), published_twinning, notes="Proposed.")
    published_twinning.status_act = "Changed meanwhile"
    published_twinning.save()
    change = PendingChange.objects.get()
    response = client_for(chief_editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    assert "has changed since this change was proposed" in response.content.decode()
    published_twinning.refresh_from_db()
    assert published_twinning.notes == ""
    change.refresh_from_db()
    assert change.status == "pending"


def test_chief_editors_own_changes_are_published_at_once(chief_editor, published_twinning):
    edit_twinning(client_for(chief_editor), published_twinning, notes="Chief's note.")
    published_twinning.refresh_from_db()
    assert published_twinning.notes == "Chief's note."
    assert not PendingChange.objects.exists()


def test_editor_edits_a_draft_directly(editor, twinned_pair):
    Twinning.objects.filter(pk=twinned_pair.pk).update(review_state="draft")
    edit_twinning(client_for(editor), twinned_pair, notes="Draft note.")
    twinned_pair.refresh_from_db()
    assert twinned_pair.notes == "Draft note."
    assert not PendingChange.objects.exists()


def test_an_agreements_new_party_waits_for_review(editor, chief_editor, make_city, source):
    agreement = Agreement.objects.create(
        title="Pact", slug="pact", kind="pact", signed_year=2015, status="in_force"
    )
    agreement.sources.add(source)
    city = make_city("Milan", "IT", slug="milan-it")
    data = {
        "title": "Pact",
        "slug": "pact",
        "kind": "pact",
        "signed_year": "2015",
        "signed_on": "",
        "signed_precision": "",
        "forum": "",
        "status": "in_force",
        "status_year": "",
        "text_url": "",
        "summary": "",
        "notes": "",
        "sources": [source.pk],
        "change_reason": "",
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-0-city": city.pk,
        "parties-0-action": "signed",
        "parties-0-year": "2015",
        "parties-0-date": "",
        "parties-0-notes": "",
    }
    response = client_for(editor).post(
        reverse("admin:activities_agreement_change", args=[agreement.pk]), data
    )
    assert response.status_code == 302, response.context and response.context.get("errors")
    assert AgreementParty.objects.count() == 0
    change = PendingChange.objects.get()
    page = client_for(chief_editor).get(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
    )
    assert "Agreement party added" in page.content.decode()
    client_for(chief_editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    assert AgreementParty.objects.get().city == city


def test_an_editors_import_update_to_a_published_record_waits(editor, twinned_pair, source):
    client = client_for(editor)
    content = TWINNINGS_HEADER + "coventry-gb,volgograd-ru,sister_city,1944,active,,test-source,\n"
    response = preview(client, "twinning", "update.csv", content)
    assert response.status_code == 200
    confirm(client, "twinning", response)
    twinned_pair.refresh_from_db()
    assert twinned_pair.kind == "twin_town"
    change = PendingChange.objects.get()
    assert change.after["fields"]["kind"] == "sister_city"
    assert change.reason == "Imported from update.csv"


def test_preview_shows_a_pending_change_without_publishing_it(editor, published_twinning, client):
    edit_twinning(client_for(editor), published_twinning, notes="Previewed note.")
    change = PendingChange.objects.get()
    response = client_for(editor).get(
        reverse("admin:citydiplo_pendingchange_preview", args=[change.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Previewed note." in html and "Preview:" in html
    published_twinning.refresh_from_db()
    assert published_twinning.notes == ""
    assert "Previewed note." not in public_page(client, published_twinning)


def test_preview_of_a_draft_from_its_admin_page(editor, make_city, client):
    draft = make_city("Draftville", "FR", slug="draftville-fr", review_state="draft")
    editor_client = client_for(editor)
    page = editor_client.get(reverse("admin:cities_city_change", args=[draft.pk]))
    preview_url = reverse(
        "admin:citydiplo_pendingchange_preview_record", args=["cities", "city", draft.pk]
    )
    assert preview_url in page.content.decode()
    response = editor_client.get(preview_url)
    assert response.status_code == 200
    assert "<h1>Draftville</h1>" in response.content.decode()
    draft.refresh_from_db()
    assert draft.review_state == "draft"
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_admin_is_titled_citydiplo(editor_client):
    html = editor_client.get(reverse("admin:index")).content.decode()
    assert "CityDiplo" in html and "Django administration" not in html


def test_a_citys_other_names_are_in_the_review_diff(editor, chief_editor, make_city, source):
    lyon = make_city("Lyon", "FR", slug="lyon-fr", alternate_names="Lion")
    lyon.sources.add(source)
    link = Source.cities.through.objects.get(city=lyon)
    lion = lyon.names.get(name="Lion")
    data = city_form(
        "Lyon",
        "FR",
        slug="lyon-fr",
        based_on_version=lyon.version,
        **{
            "names-TOTAL_FORMS": "2",
            "names-INITIAL_FORMS": "1",
            "names-0-id": lion.pk,
            "names-0-city": lyon.pk,
            "names-0-name": "Lyons",
            "names-1-id": "",
            "names-1-city": lyon.pk,
            "names-1-name": "Lugdunum",
            "Source_cities-TOTAL_FORMS": "1",
            "Source_cities-INITIAL_FORMS": "1",
            "Source_cities-0-id": link.pk,
            "Source_cities-0-city": lyon.pk,
            "Source_cities-0-source": source.pk,
        },
    )
    editor_client = client_for(editor)
    page = editor_client.get(reverse("admin:cities_city_change", args=[lyon.pk]))
    assert 'name="names-TOTAL_FORMS"' in page.content.decode()  # editors edit names
    response = editor_client.post(reverse("admin:cities_city_change", args=[lyon.pk]), data)
    assert response.status_code == 302, response.context and response.context.get("errors")

    def other_names():
        return sorted(lyon.names.exclude(source="main").values_list("name", flat=True))

    assert other_names() == ["Lion"]  # until a chief editor approves
    change = PendingChange.objects.get()
    page = client_for(chief_editor).get(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
    )
    diff = page.context["diff"]
    assert ("Name added", "—", "Name: Lugdunum; Source: Editor") in diff
    assert ("Name changed", "Name: Lion; Source: Editor", "Name: Lyons; Source: Editor") in diff
    assert "Lugdunum" in page.content.decode()
    client_for(chief_editor).post(
        reverse("admin:citydiplo_pendingchange_change", args=[change.pk]), {"_approve": "1"}
    )
    assert other_names() == ["Lugdunum", "Lyons"]
