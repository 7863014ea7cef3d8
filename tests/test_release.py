"""The citable release: a valid Frictionless Data Package of the published catalogue,
with checksums that match; the /data/ page offering it; CITATION.cff."""

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from frictionless import Package

from activities import release

ROOT = Path(settings.BASE_DIR)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rows(directory, name):
    with open(directory / f"{name}.csv", encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def built(tmp_path, catalogue, source):
    from activities.models import ConflictingValue

    catalogue.paris_berlin.sources.add(source)
    catalogue.paris.sources.add(source)
    other = ConflictingValue.objects.create(
        twinning=catalogue.paris_berlin, field="start", value="1988"
    )
    other.sources.add(source)
    hidden = ConflictingValue.objects.create(
        twinning=catalogue.draft_twinning, field="start", value="1999"
    )
    hidden.sources.add(source)
    directory = tmp_path / "release"
    release.build(directory, "2026-11-30")
    return directory


def test_release_is_a_valid_data_package(built):
    report = Package(str(built / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_release_has_a_table_per_kind_and_relation_with_keys(built):
    descriptor = json.loads((built / "datapackage.json").read_text())
    names = {resource["name"] for resource in descriptor["resources"]}
    assert {
        "cities", "networks", "memberships", "agreements", "agreement_parties", "twinnings",
        "activities", "themes", "sources", "network_themes", "activity_partners",
        "twinning_sources", "city_sources",
    } <= names  # fmt: skip
    twinnings = next(r for r in descriptor["resources"] if r["name"] == "twinnings")
    assert twinnings["schema"]["primaryKey"] == ["id"]
    assert {"fields": ["city_a"], "reference": {"resource": "cities", "fields": ["slug"]}} in (
        twinnings["schema"]["foreignKeys"]
    )
    types = {f["name"]: f["type"] for f in twinnings["schema"]["fields"]}
    assert types["start_year"] == "integer" and types["start_on"] == "date"
    assert descriptor["version"] == "2026-11-30"
    assert descriptor["licenses"][0]["name"] == "CC-BY-SA-4.0"
    assert "Wikipedia contributors" in descriptor["description"]


def test_release_checksums_match_the_files(built):
    descriptor = json.loads((built / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        assert resource["hash"] == "sha256:" + sha256(built / resource["path"])
        assert resource["bytes"] == (built / resource["path"]).stat().st_size
    listed = dict(
        reversed(line.split("  ")) for line in (built / "SHA256SUMS").read_text().splitlines()
    )
    assert "datapackage.json" in listed and "twinnings.csv" in listed
    for name, digest in listed.items():
        assert sha256(built / name) == digest, name
    archive = built / "citydiplo-2026-11-30.zip"
    assert (built / f"{archive.name}.sha256").read_text().split()[0] == sha256(archive)
    with zipfile.ZipFile(archive) as bundle:
        assert "citydiplo-2026-11-30/twinnings.csv" in bundle.namelist()


def test_release_leaves_drafts_out(built, catalogue):
    cities = {row["slug"] for row in rows(built, "cities")}
    assert "hidden-fr" not in cities and "paris-fr" in cities
    twinning_ids = {int(row["id"]) for row in rows(built, "twinnings")}
    assert catalogue.draft_twinning.pk not in twinning_ids
    assert catalogue.twinning_with_draft.pk not in twinning_ids  # its partner is a draft
    assert "draft-network" not in {row["slug"] for row in rows(built, "networks")}
    assert "hidden-fr" not in {row["city"] for row in rows(built, "memberships")}
    assert "hidden-fr" not in {row["city"] for row in rows(built, "activity_partners")}


def test_release_cites_sources(built, catalogue, source):
    assert [row["key"] for row in rows(built, "sources")] == [source.key]
    assert {"twinning": str(catalogue.paris_berlin.pk), "source": source.key} in rows(
        built, "twinning_sources"
    )
    assert {"city": "paris-fr", "source": source.key} in rows(built, "city_sources")
    others = rows(built, "conflicting_values")
    assert [(row["twinning"], row["value"]) for row in others] == [
        (str(catalogue.paris_berlin.pk), "1988")
    ]  # not the draft twinning's
    assert rows(built, "conflicting_value_sources")[0]["source"] == source.key


def test_release_command_writes_into_release_dir(tmp_path, settings, catalogue):
    settings.RELEASE_DIR = tmp_path
    out = io.StringIO()
    call_command("release", "--release-version", "2026-01-02", stdout=out)
    assert "Release 2026-01-02" in out.getvalue()
    assert (tmp_path / "2026-01-02" / "datapackage.json").exists()
    assert release.latest_release().version == "2026-01-02"


def test_data_page_offers_the_latest_release_and_its_checksum(
    client, tmp_path, settings, catalogue
):
    settings.RELEASE_DIR = tmp_path
    release.build(tmp_path / "2026-11-29", "2026-11-29")
    release.build(tmp_path / "2026-11-30", "2026-11-30")
    page = client.get("/data/").content.decode()
    assert page.count("<h1") == 1
    assert "Latest release: 2026-11-30" in page
    assert sha256(tmp_path / "2026-11-30" / "citydiplo-2026-11-30.zip") in page
    assert "How to cite" in page and "CC BY-SA 4.0" in page
    response = client.get("/data/2026-11-30/twinnings.csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == (tmp_path / "2026-11-30/twinnings.csv").read_bytes()
    assert client.get("/data/2026-11-30/settings.py").status_code == 404
    assert client.get("/data/..%2F/datapackage.json").status_code == 404


def test_data_page_says_when_there_is_no_release(client, tmp_path, settings, db):
    settings.RELEASE_DIR = tmp_path / "none"
    page = client.get("/data/").content.decode()
    assert "No release" in page and "manage.py release" in page


def test_citation_file_parses_and_names_the_licence():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type"):
        assert citation[key]
    assert citation["license"] == "CC-BY-SA-4.0"
    assert any("Wikipedia" in ref["authors"][0].get("name", "") for ref in citation["references"])


def test_about_page_states_licence_and_citation(client, db):
    page = client.get("/about/").content.decode()
    assert "CC BY-SA 4.0" in page
    assert "CITATION.cff" in page and "/data/" in page


def test_validation_catches_a_changed_file(built):
    table = built / "twinnings.csv"
    table.write_text(table.read_text().replace("1944", "1945"))
    report = Package(str(built / "datapackage.json")).validate()
    assert not report.valid
    assert "hash-count" in {error_type for (error_type,) in report.flatten(["type"])}
