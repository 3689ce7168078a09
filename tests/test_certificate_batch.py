"""Issue 12, item 5: certificates drawn a chunk at a time. A chunk's queries do not grow with its size, a re-run
draws nothing again, a crash part-way leaves nothing behind and a re-run draws every one, a reversed award gets
no certificate, and one certificate that cannot be drawn does not hold back the others."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certificates import render, services, tasks
from certificates.models import Certificate
from cme_portal.accounts.models import Role
from cme_portal.notifications.kinds import Kind
from cme_portal.review.models import Notification
from credits.models import CreditRecord
from credits.services import award, correct_record

from .factories import ProjectFactory, held_session, learner, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def awards(tree, monkeypatch):
    """give(n): n learners awarded a session's credits, their certificates not drawn yet (no render task sent)."""
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)
    session = held_session(
        staff(Role.ORGANISER, tree["unit_a"]),
        tree["unit_a"],
        date(2026, 6, 1),
        date(2026, 6, 3),
        project=ProjectFactory(holding_unit=tree["unit_a"], level="national", credits=10),
        venue="甲市会议中心",
        credits=10,
        hours=30,
    )

    def give(n):
        return [record.pk for record in award(session, [learner(unit=tree["unit_a"]) for _ in range(n)])]

    return give


def queries_of(record_ids):
    with CaptureQueriesContext(connection) as captured:
        result = services.render_chunk(record_ids)
    assert result.drawn == len(record_ids)
    return len(captured.captured_queries)


def test_a_chunks_queries_do_not_grow_with_its_size(awards):
    queries_of(awards(2))  # the process's first chunk reads the template's images once
    few, many = queries_of(awards(3)), queries_of(awards(30))
    assert few == many <= 16, (few, many)


def test_a_chunk_run_again_draws_nothing(awards):
    ids = awards(4)
    assert services.render_chunk(ids).drawn == 4
    again = services.render_chunk(ids)
    assert (again.drawn, again.skipped) == (0, 4)
    certificates = Certificate.objects.filter(record_id__in=ids)
    assert sorted(certificates.values_list("render_count", flat=True)) == [1, 1, 1, 1]
    assert len({c.number for c in certificates}) == 4 and all(c.number.startswith("CME2026") for c in certificates)
    assert Notification.objects.filter(kind=Kind.CERTIFICATE_READY).count() == 4  # each learner told once


def test_a_crash_part_way_leaves_nothing_and_a_rerun_draws_every_one(awards, monkeypatch):
    ids = awards(5)

    def crash(*args, **kwargs):
        raise RuntimeError("worker lost its database connection")

    monkeypatch.setattr(services, "_write", crash)
    with pytest.raises(RuntimeError):
        services.render_chunk(ids)
    assert not Certificate.objects.filter(record_id__in=ids).exists()  # not even issued: the whole chunk rolled back
    monkeypatch.undo()
    assert services.render_chunk(ids).drawn == 5
    drawn = Certificate.objects.filter(record_id__in=ids)
    assert drawn.count() == 5 and set(drawn.values_list("render_count", flat=True)) == {1}


def test_the_files_of_a_crashed_chunk_are_removed(awards, monkeypatch):
    ids = awards(3)
    written = []
    save = services.ContentFile

    def remembering(content, *args, **kwargs):
        written.append(content)
        return save(content, *args, **kwargs)

    monkeypatch.setattr(services, "ContentFile", remembering)
    storage = Certificate._meta.get_field("file").storage
    before = set(_pdfs(storage))
    monkeypatch.setattr(services, "_write", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        services.render_chunk(ids)
    assert len(written) == 3 and set(_pdfs(storage)) == before  # drawn, then removed with the rollback


def _pdfs(storage):
    found = []
    directories, files = storage.listdir("certificates") if storage.exists("certificates") else ([], [])
    for directory in directories:
        found += [f"{directory}/{name}" for name in storage.listdir(f"certificates/{directory}")[1]]
    return found + files


def test_a_reversed_award_gets_no_certificate(awards, tree):
    kept, cancelled = awards(2)
    correct_record(CreditRecord.objects.get(pk=cancelled), staff(Role.PROVINCE_ADMIN, tree["province"]), "重复授予")
    result = services.render_chunk([kept, cancelled])
    assert result.drawn == 1
    assert list(Certificate.objects.values_list("record_id", flat=True)) == [kept]


def test_one_certificate_that_cannot_be_drawn_does_not_hold_back_the_others(awards, monkeypatch):
    ids = awards(3)
    bad = CreditRecord.objects.select_related("learner").get(pk=ids[1]).learner.name
    draw = render.render

    def failing(fields, *args, **kwargs):
        if fields["name"] == bad:
            raise ValueError("a glyph the font cannot draw")
        return draw(fields, *args, **kwargs)

    monkeypatch.setattr(render, "render", failing)
    result = services.render_chunk(ids)
    assert (result.drawn, result.failed) == (2, [ids[1]])
    assert Certificate.objects.exclude(file="").count() == 2
    certificate = Certificate.objects.get(record_id=ids[1])  # issued and numbered; the reconciler draws it later
    assert certificate.number and not certificate.file
