"""Settings for the test suite: the real settings, made fast and self-contained.

DATABASE_URL and REDIS_URL still apply, so CI runs the suite on PostgreSQL and
Redis (.ci/run). Tasks run eagerly: a test is its own worker.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("PORTAL_BASE_URL", "https://cme.example.org")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# Each xdist worker keeps its own keys in a shared Redis.
os.environ.setdefault("CACHE_KEY_PREFIX", "cme-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main"))

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "cme_portal.accounts.sms.LocmemBackend"
SMS_SHOW_CODE_IN_PAGE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
MEDIA_ROOT = BASE_DIR / "test-artifacts" / "media" / os.environ.get("PYTEST_XDIST_WORKER", "main")
CAPTCHA_TEST_MODE = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
