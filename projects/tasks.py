"""Catalogue imports in a worker: a province's list of 20,000 rows must not hold a request."""

from celery import shared_task

from . import services


@shared_task(soft_time_limit=services.IMPORT_TIME_LIMIT - 60, time_limit=services.IMPORT_TIME_LIMIT)
def run_catalogue_import(import_id):
    """Check and import one uploaded list, all or nothing; safe to run twice (only a pending job is taken)."""
    return services.run_catalogue_import(import_id)
