"""A backup holds everything, and restoring it into an empty database loses nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from activities import backup
from activities.backup import backed_up_models, serialize_model
from activities.models import Twinning
from tests.database_template import migrated_sqlite_file
from tests.records import catalogue_sample, load_catalogue_sample

ROOT = Path(__file__).resolve().parent.parent


def database_as_json():
    """Every backed-up row, as the backup writes it, keyed by (model, pk)."""
    return {
        (obj["model"], str(obj["pk"])): obj["fields"]
        for model in backed_up_models()
        for obj in serialize_model(model)
    }


@pytest.fixture
def catalogue_with_history(db, django_user_model, tmp_path):
    load_catalogue_sample(tmp_path)
    editor = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Backup test group")
    editor.groups.add(group)
    twinning = Twinning.objects.first()
    twinning.notes = "Checked against the council minutes."
    twinning._change_reason = "Source re-checked"
    twinning._history_user = editor
    twinning.save()
    return twinning


@pytest.mark.django_db(transaction=True)
def test_backup_round_trips_the_whole_database_with_history(catalogue_with_history, tmp_path):
    before = database_as_json()
    assert any(model == "activities.historicaltwinning" for model, _ in before)
    path = tmp_path / "backup.json.gz"
    call_command("backup", str(path), verbosity=0)

    call_command("flush", interactive=False, verbosity=0)
    assert Twinning.objects.count() == 0 and User.objects.count() == 0

    call_command("restore", str(path), verbosity=0)
    after = database_as_json()
    assert after.keys() == before.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert changed == []
    restored = Twinning.objects.get(pk=catalogue_with_history.pk)
    assert restored.history.first().history_change_reason == "Source re-checked"
    assert restored.history.first().history_user.username == "ed"


@pytest.mark.django_db(transaction=True)
def test_a_broken_backup_restores_nothing(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            [
                {
                    "model": "cities.city",
                    "pk": 1,
                    "fields": {"name": "X", "slug": "x-fr", "country": "FR"},
                },
                {"model": "activities.twinning", "pk": 1, "fields": {"city_a": 1, "city_b": 404}},
            ]
        )
    )
    with pytest.raises(Exception, match="Nothing restored"):
        call_command("restore", str(path), verbosity=0)
    assert apps.get_model("cities.City").objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_restores_into_this_database(tmp_path):
    """SQLite to PostgreSQL (when the suite runs on PostgreSQL): a user can move up."""
    old = tmp_path / "old.sqlite3"
    migrated_sqlite_file(old)
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(catalogue_sample()))
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{old}"}
    path = tmp_path / "from-sqlite.json"
    for args in (["load_catalogue", "--fixture", str(sample)], ["backup", str(path)]):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=300
        )
    call_command("restore", str(path), verbosity=0)
    dumped = {(o["model"], str(o["pk"])): o["fields"] for o in json.loads(path.read_text())}
    assert len(dumped) > 4000
    here = database_as_json()
    missing = dumped.keys() - here.keys()
    assert not missing
    changed = [key for key in dumped if dumped[key] != here[key]]
    assert changed == []


@pytest.mark.parametrize("name", ["backup.json.gz", "backup.json"])
def test_backups_are_readable_by_their_owner_only(db, tmp_path, name):
    import os
    import stat

    path = tmp_path / name
    path.write_text("old")
    path.chmod(0o644)  # an earlier file of that name, readable by all
    call_command("backup", str(path), verbosity=0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert backup.read(path) is not None
