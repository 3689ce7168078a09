import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from cme_portal import views

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] == {"status": "down", "error": "OperationalError"}


def test_a_broker_outage_degrades_without_failing(client, monkeypatch, settings):
    from cme_portal import views

    monkeypatch.setitem(views.celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(views.celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"]["status"] == "down"
