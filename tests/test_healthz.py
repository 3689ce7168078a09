import os

import pytest
import redis
from django.db import OperationalError

pytestmark = pytest.mark.django_db


REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up():
    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="needs a Redis server (CI starts one)")
def test_healthz_reports_database_and_broker(client, monkeypatch):
    """Against a real broker: the check connects to it, not only reports eager mode."""
    from cme_portal import views

    monkeypatch.setitem(views.celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(views.celery_app.conf, "broker_url", REDIS)
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"] == {"status": "ok", "mode": "broker"}


def test_healthz_in_eager_mode_says_so(client):
    assert client.get("/healthz/").json()["broker"] == {"status": "ok", "mode": "eager"}


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
