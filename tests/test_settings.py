"""Settings come from the environment (DESIGN.md §6); production refuses unsafe defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
from cme_portal.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "base": settings.PORTAL_BASE_URL,
    "serializer": app.conf.task_serializer,
    "acks_late": app.conf.task_acks_late,
    "task_cls": str(app.task_cls),
}))
"""


def run_settings(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "CELERY_TASK_ALWAYS_EAGER", "PORTAL_BASE_URL"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="cme_portal.settings")
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_refuses_the_default_secret_key():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_nothing_set_but_debug_means_sqlite_and_eager_tasks():
    result = run_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["name"].endswith("db.sqlite3")
    assert probe["eager"] is True
    assert probe["debug"] is True
    assert probe["serializer"] == "json" and probe["acks_late"] is True
    assert probe["task_cls"].endswith("DjangoTask")  # gives delay_on_commit


def test_database_and_redis_urls_switch_to_postgres_and_a_real_broker():
    result = run_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://cme:secret@db:5432/cme",
        REDIS_URL="redis://redis:6379/0",
        PORTAL_BASE_URL="https://cme.example.org/",
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["engine"] == "django.db.backends.postgresql"
    assert probe["eager"] is False
    assert probe["broker"] == "redis://redis:6379/0"
    assert probe["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert probe["debug"] is False
    assert probe["base"] == "https://cme.example.org"
