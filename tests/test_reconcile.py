# ruff: noqa: F811  (pytest fixtures imported from other test modules)
"""Nothing lost (issue 16, item 2): the reconciler queues again what a dead worker or an absent broker
left undone, and running it twice changes nothing."""

import pytest

from certificates.models import BulkDownload, BulkState, Certificate
from certificates.reconcile import reconcile
from certificates.services import revoke
from credits.services import award, correct_record
from projects.models import CatalogueImport, ImportState

from .factories import learner
from .test_certificates import session  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reconciled(django_capture_on_commit_callbacks):
    """One reconciler pass whose queued tasks run (eagerly) as the pass commits."""

    def run(grace_seconds=0):
        with django_capture_on_commit_callbacks(execute=True):
            return reconcile(grace_seconds=grace_seconds)

    return run


@pytest.fixture
def people(tree):
    return [learner(unit=tree["unit_a"], name=f"学员{n}") for n in range(3)]


def test_awards_whose_render_tasks_were_lost_get_one_certificate_each(session, people, reconciled):  # noqa: F811
    records = award(session, people)  # the test transaction never commits: the render tasks are never sent
    assert not Certificate.objects.exists()

    assert reconciled()["certificates"] == 3

    certificates = Certificate.objects.filter(record__in=records)
    assert certificates.count() == 3 and all(c.file and c.file.storage.exists(c.file.name) for c in certificates)
    counts = sorted(certificates.values_list("render_count", flat=True))
    assert reconciled()["certificates"] == 0  # twice: nothing more
    assert sorted(Certificate.objects.values_list("render_count", flat=True)) == counts


def test_a_certificate_row_without_its_file_is_drawn(session, people, django_capture_on_commit_callbacks, reconciled):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        award(session, people[:2])
    lost, kept = Certificate.objects.order_by("pk")
    lost.file.storage.delete(lost.file.name)  # the worker died after the row, before (or while) the file
    Certificate.objects.filter(pk=kept.pk).update(file="")

    assert reconciled()["certificates"] == 2

    for certificate in Certificate.objects.all():
        assert certificate.file.storage.exists(certificate.file.name)
        with certificate.file.open("rb") as pdf:
            assert pdf.read(5) == b"%PDF-"


def test_recent_awards_are_left_to_their_own_tasks(session, people, reconciled):  # noqa: F811
    award(session, people)
    assert reconciled(600)["certificates"] == 0


def test_a_correction_of_a_revoked_certificate_is_not_issued_again(
    session, people, cast, django_capture_on_commit_callbacks, reconciled
):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        (record,) = award(session, people[:1])
    revoke(Certificate.objects.get(record=record), cast["province_admin"], "代签到")
    with django_capture_on_commit_callbacks(execute=True):
        correct_record(record, cast["province_admin"], "学时更正", hours=3)

    assert reconciled()["certificates"] == 0
    assert Certificate.objects.count() == 1


def test_stuck_bulk_downloads_and_imports_are_taken_again(
    cast, tree, session, people, django_capture_on_commit_callbacks, settings, reconciled
):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        award(session, people)
    settings.CELERY_TASK_TIME_LIMIT = 0  # any building job is older than the time limit: its worker died
    dead = BulkDownload.objects.create(requested_by=cast["unit_admin"], unit=tree["unit_a"], year=2026, state=BulkState.BUILDING)
    never = BulkDownload.objects.create(requested_by=cast["unit_admin"], unit=tree["unit_a"], session=session)
    job = CatalogueImport.objects.create(entry="remote_filed", file="imports/none.xlsx", requested_by=cast["province_admin"])

    queued = reconciled()

    assert queued["bulk_downloads"] == 2 and queued["catalogue_imports"] == 1
    assert set(BulkDownload.objects.values_list("state", flat=True)) == {BulkState.READY}
    job.refresh_from_db()
    assert job.state == ImportState.FAILED  # it ran (its file is missing: it ends, with its reason)
    assert dead.pk and never.pk
