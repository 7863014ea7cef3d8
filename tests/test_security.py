"""Production safety: headers, CSP, lockout, health check, escaping."""

import pytest
from django.db import DatabaseError
from django.urls import reverse

from cities.models import City


def test_healthz_reports_the_database_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_503_when_the_database_is_down(client, db, monkeypatch):
    class UnreachableDatabase:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr("citydiplo.health.connection", UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreadable"


def test_healthz_reports_503_when_a_catalogue_table_cannot_be_read(client, db, monkeypatch):
    monkeypatch.setattr(
        "citydiplo.health.catalogue_tables", lambda: ["cities_city", "activities_missing"]
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreadable"


def test_healthz_reads_every_catalogue_table(client, db, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        assert client.get("/healthz").status_code == 200
    sql = captured.captured_queries[0]["sql"]
    assert "cities_city" in sql and "activities_twinning" in sql


def test_public_pages_send_a_strict_content_security_policy(client, db):
    response = client.get(reverse("activities:home"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admin_login_locks_out_after_repeated_failures(client, django_user_model, settings):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            "/admin/login/", {"username": "editor", "password": "wrong", "next": "/admin/"}
        )
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    last_failure = client.post("/admin/login/", {"username": "editor", "password": "wrong"})
    assert last_failure.status_code == 429
    locked = client.post(
        "/admin/login/", {"username": "editor", "password": "right-password", "next": "/admin/"}
    )
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()


def test_admin_login_succeeds_before_the_limit(client, django_user_model):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)
    client.post("/admin/login/", {"username": "editor", "password": "wrong"})
    response = client.post(
        "/admin/login/", {"username": "editor", "password": "right-password", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


HOSTILE = ['<script>alert("x")</script>', '" onmouseover="alert(1)']


@pytest.mark.parametrize("hostile", HOSTILE)
def test_editor_text_is_escaped_on_public_pages(client, db, hostile):
    city = City.objects.create(
        name=f"Evil {hostile}",
        slug="evil-fr",
        country="FR",
        summary=f"Summary {hostile}",
        notes=f"Notes {hostile}",
    )
    for url in [city.get_absolute_url(), reverse("cities:city-list"), "/search/?q=Evil"]:
        body = client.get(url).content.decode()
        assert hostile not in body, url


@pytest.mark.parametrize("secure", [False, True])
def test_a_refused_host_gets_the_same_security_headers_as_pages(client, db, settings, secure):
    settings.ALLOWED_HOSTS = ["citydiplo.example.org"]
    settings.SECURE_SSL_REDIRECT = secure
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/activities/twinning/?status=%00",
        "/admin/activities/twinning/?q=a%00b",
        "/admin/cities/city/?country=%00",
    ],
)
def test_a_nul_byte_in_an_admin_parameter_is_a_400(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400


def test_a_chief_editor_can_unlock_a_locked_out_login(client, settings, django_user_model):
    from axes.models import AccessAttempt
    from django.contrib.auth.models import Group
    from django.test import Client

    django_user_model.objects.create_user("ada", password="right-password", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "ada", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "ada", "password": "right-password"})
    assert locked.status_code == 429
    assert "ask a chief editor to unlock it" in locked.content.decode()

    chief = django_user_model.objects.create_user("grace", password="x", is_staff=True)
    chief.groups.add(Group.objects.get(name="Chief editors"))
    chief_client = Client()
    chief_client.force_login(chief)
    attempts = chief_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert attempts.status_code == 200 and "ada" in attempts.content.decode()
    attempt = AccessAttempt.objects.get(username="ada")
    delete_url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert chief_client.post(delete_url, {"post": "yes"}).status_code == 302

    unlocked = client.post(
        "/admin/login/", {"username": "ada", "password": "right-password", "next": "/admin/"}
    )
    assert unlocked.status_code == 302
