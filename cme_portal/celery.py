"""The Celery application. Settings come from Django's, prefixed CELERY_.

Tasks take primary keys, never model instances, and are sent after the
transaction commits (``task.delay_on_commit``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")

app = Celery("cme_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
