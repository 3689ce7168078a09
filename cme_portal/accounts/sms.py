"""SMS backends. The portal only ever sends through ``send_sms`` (a Celery task).

Configure with SMS_BACKEND; a provider's backend is a class with
``send(mobile, message)`` that raises on failure (the task retries).
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("cme_portal.sms")

# Messages sent by LocmemBackend, like django.core.mail.outbox.
outbox = []


class ConsoleBackend:
    """Writes each message to the log: for development and intranets without a gateway."""

    def send(self, mobile, message):
        logger.warning("SMS to %s: %s", mobile, message)


class LocmemBackend:
    """Keeps messages in ``outbox`` for tests."""

    def send(self, mobile, message):
        outbox.append((mobile, message))


def get_backend():
    return import_string(settings.SMS_BACKEND)()
