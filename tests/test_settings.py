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
    assert probe["cache"] == "cme_portal.cache.ResilientRedisCache"
    assert probe["debug"] is False
    assert probe["base"] == "https://cme.example.org"


SECURITY_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "hsts": settings.SECURE_HSTS_SECONDS,
    "proxy": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
    "sms_in_page": settings.SMS_SHOW_CODE_IN_PAGE,
}))
"""


def probe_security(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_COOKIES", "NUM_PROXIES", "SECURE_HSTS_SECONDS"}}
    clean.update({"SECRET_KEY": "x" * 50, **env}, DJANGO_SETTINGS_MODULE="cme_portal.settings")
    result = subprocess.run([sys.executable, "-c", SECURITY_PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_hsts_is_on_by_default_when_cookies_are_secure_and_configurable():
    assert probe_security(DEBUG="0")["hsts"] == 31_536_000
    assert probe_security(DEBUG="0", SECURE_HSTS_SECONDS="600")["hsts"] == 600
    assert probe_security(DEBUG="0", SECURE_COOKIES="0")["hsts"] == 0


def test_the_proxy_header_is_trusted_only_behind_a_declared_proxy():
    assert probe_security(DEBUG="0")["proxy"] is None
    assert probe_security(DEBUG="0", NUM_PROXIES="1")["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_sms_codes_are_not_shown_on_the_page_unless_the_setting_says_so():
    assert probe_security(DEBUG="1")["sms_in_page"] is False  # make run sets DEBUG=1 and nothing else
    assert probe_security(DEBUG="1", SMS_SHOW_CODE_IN_PAGE="1")["sms_in_page"] is True
