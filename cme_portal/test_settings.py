"""Settings for the test suite: the real settings, made fast and self-contained.

DATABASE_URL and REDIS_URL still apply, so CI runs the suite on PostgreSQL and
Redis (.ci/run). Tasks run eagerly: a test is its own worker.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("PORTAL_BASE_URL", "https://cme.example.org")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# Each xdist worker keeps its own keys in a shared Redis: its own database (gw0 → 1, gw1 → 2 …), since a
# test's cache.clear() flushes the whole database, and its own key prefix.
os.environ.setdefault("CACHE_KEY_PREFIX", "cme-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main"))
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit() and os.environ.get("REDIS_URL", "").startswith("redis://"):
    _base, _sep, _db = os.environ["REDIS_URL"].rpartition("/")
    if _sep and _db.isdigit() and "@" not in _db:
        os.environ["REDIS_URL"] = f"{_base}/{1 + int(_worker[2:])}"

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "cme_portal.accounts.sms.LocmemBackend"
SMS_SHOW_CODE_IN_PAGE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
MEDIA_ROOT = BASE_DIR / "test-artifacts" / "media" / os.environ.get("PYTEST_XDIST_WORKER", "main")
CAPTCHA_TEST_MODE = True
CERTIFICATE_SIGNING_SELF_SIGNED = True  # a demo key in MEDIA_ROOT/keys, made on first use
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
