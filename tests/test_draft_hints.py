"""A published record never gives a hint of a draft one: not through search, filters
or a closure that only an unpublished merger explains."""

import csv
import io

from django.urls import reverse


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_activity_is_not_found_by_its_draft_lead_citys_name(client, draft_links):
    listing = client.get(reverse("activities:activity-list"), {"q": "Secretville"})
    assert "Open Mission" not in body(listing)
    search = client.get(reverse("activities:search"), {"q": "Secretville"})
    assert "Open Mission" not in body(search)
    # Its own words still find it.
    found = client.get(reverse("activities:activity-list"), {"q": "Open Mission"})
    assert "Open Mission" in body(found)


def test_activity_is_not_found_by_its_draft_lead_citys_country(client, draft_links):
    listing = client.get(reverse("activities:activity-list"), {"country": "NO"})
    assert "Open Mission" not in body(listing)
    download = client.get(reverse("activities:activity-list"), {"country": "NO", "format": "csv"})
    assert "open-mission" not in body(download)


def test_network_merged_into_a_draft_is_not_shown_as_closed(client, draft_links):
    page = body(client.get(draft_links.network.get_absolute_url()))
    assert "Closed" not in page and "closed 2000" not in page
    listing = body(client.get(reverse("activities:network-list")))
    assert "2000" not in listing
    active = body(client.get(reverse("activities:network-list"), {"active": "true"}))
    assert "Open Network" in active
    download = body(client.get(reverse("activities:network-list"), {"format": "csv"}))
    row = next(r for r in csv.DictReader(io.StringIO(download)) if r["slug"] == "open-network")
    assert row["closed_year"] == "" and row["merged_into"] == ""


def test_network_merged_into_a_published_network_is_closed(client, draft_links):
    draft_links.draft_network.review_state = "published"
    draft_links.draft_network.save()
    page = body(client.get(draft_links.network.get_absolute_url()))
    assert "Merged into" in page and "2000" in page


def test_api_does_not_show_a_network_merged_into_a_draft_as_closed(client, draft_links):
    response = client.get(f"/api/networks/{draft_links.network.pk}/")
    if response.status_code == 404:
        response = client.get(f"/api/networks/{draft_links.network.slug}/")
    data = response.json()
    assert data["closed_year"] is None and data["merged_into"] is None
