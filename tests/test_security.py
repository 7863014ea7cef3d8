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
    assert response.json()["database"] == "unreachable"


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
