"""Two people editing one record: the later save, based on a version changed since, is
refused with a link to the current version; SQLite makes writers wait, not fail."""

import contextlib
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.urls import reverse

from activities.models import Twinning

from .test_admin import client_for, twinning_form


def opened_version(client, twinning):
    page = client.get(reverse("admin:activities_twinning_change", args=[twinning.pk]))
    return page.context["adminform"].form.initial["based_on_version"]


def save(client, twinning, version, **fields):
    data = twinning_form(
        twinning.city_a,
        twinning.city_b,
        start_year="1944",
        review_state="published",
        sources=[s.pk for s in twinning.sources.all()],
        based_on_version=version,
    )
    data.update(fields)
    return client.post(reverse("admin:activities_twinning_change", args=[twinning.pk]), data)


def test_a_save_based_on_a_changed_version_is_refused(
    chief_editor, django_user_model, twinned_pair
):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user("grace", password="x", is_staff=True)
    other.groups.add(Group.objects.get(name="Chief editors"))
    mine, theirs = client_for(chief_editor), client_for(other)
    my_version = opened_version(mine, twinned_pair)
    their_version = opened_version(theirs, twinned_pair)
    assert save(theirs, twinned_pair, their_version, notes="Theirs").status_code == 302

    response = save(mine, twinned_pair, my_version, notes="Mine")
    assert response.status_code == 200
    html = response.content.decode()
    assert "This record was changed by grace" in html
    url = reverse("admin:activities_twinning_change", args=[twinned_pair.pk])
    assert f'<a href="{url}">Open the current version</a>' in html
    twinned_pair.refresh_from_db()
    assert twinned_pair.notes == "Theirs"


def test_a_save_based_on_the_current_version_goes_through_and_raises_it(chief_editor, twinned_pair):
    client = client_for(chief_editor)
    version = opened_version(client, twinned_pair)
    assert save(client, twinned_pair, version, notes="Fresh").status_code == 302
    twinned_pair.refresh_from_db()
    assert (twinned_pair.notes, twinned_pair.version) == ("Fresh", version + 1)
    # The same form sent twice is now stale.
    assert save(client, twinned_pair, version, notes="Again").status_code == 200


def test_an_editors_stale_proposal_is_refused_too(editor, chief_editor, twinned_pair):
    from citydiplo.models import PendingChange

    mine = client_for(editor)
    version = opened_version(mine, twinned_pair)
    chief = client_for(chief_editor)
    save(chief, twinned_pair, opened_version(chief, twinned_pair), notes="Chief")
    response = save(mine, twinned_pair, version, notes="Editor")
    assert response.status_code == 200
    assert "after you opened it" in response.content.decode()
    assert not PendingChange.objects.exists()


def test_load_and_history_never_turn_back_the_version(chief_editor, twinned_pair):
    twinned_pair.notes = "x"
    twinned_pair.save()
    assert twinned_pair.version == 2
    assert "version" not in [f.name for f in Twinning.history.model.tracked_fields]


def test_sqlite_is_configured_to_wait_for_the_write_lock():
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="'database is locked' and the settings that prevent it (IMMEDIATE, WAL) are SQLite's",
)
def test_two_sqlite_writers_wait_for_each_other_instead_of_failing(db, tmp_path):
    """Both transactions read, then write: without IMMEDIATE one fails at once with
    'database is locked'; with it the second waits for the first."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    settings_dict = {**connections["default"].settings_dict, "NAME": str(tmp_path / "db.sqlite3")}
    settings_dict["OPTIONS"] = dict(settings.DATABASES["default"]["OPTIONS"])
    setup = DatabaseWrapper(settings_dict, alias="setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    setup.close()
    both_read = threading.Barrier(2, timeout=1)
    errors = []

    def editor(alias):
        wrapper = DatabaseWrapper(settings_dict, alias=alias)
        connections[alias] = wrapper  # this thread's own connection, as in a worker
        try:
            with transaction.atomic(using=alias), wrapper.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                # The other one waits at its start (IMMEDIATE): the barrier breaks.
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait()
                cursor.execute("UPDATE counter SET n = n + 1")
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=editor, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = DatabaseWrapper(settings_dict, alias="check")
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone()[0] == 2
    check.close()
