"""W9: the province's published lists to check entries against (seed 003: 在所公布项目中可查的).

A number found in a list is shown with the list's name, organiser, dates and credits beside what was
typed, mismatches highlighted; a national, provincial or TCM number not found is flagged for the
reviewers (a flag, never a refusal). Lists are imported by a worker with progress, all or nothing.
"""

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects import services as project_services
from projects.imports import import_projects
from projects.models import CatalogueImport, Entry, ImportState

from .factories import credit_entry, staff
from .test_project_catalogue import sheet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(date(2026, 11, 22), tick=False):
        yield


def national_list(*rows):
    return sheet(*rows)


LISTED = [
    "2026-03-01-001（国）",
    "心力衰竭诊治新进展",
    "中华医学会心血管病学分会",
    "张三",
    "",
    "2026年5月10日-5月12日",
    "国家级I类8分",
]


def queue_row(client, admin):
    client.force_login(admin)
    page = client.get(reverse("credits:queue", args=["unit"]))
    [entry] = list(page.context["page_obj"])
    return entry, page.content.decode()


def test_a_listed_number_is_shown_beside_what_was_typed(client, cast):
    import_projects(national_list(LISTED), entry=Entry.NATIONAL_LIST)
    credit_entry(cast["learner"])  # 心力衰竭诊治新进展, 8 credits, 2026-05-10 to 05-12: as listed
    _entry, page = queue_row(client, cast["unit_admin"])
    assert "公布项目" in page and "中华医学会心血管病学分会" in page
    assert "与录入不一致" not in page and "未在公布项目中查到" not in page


def test_mismatches_are_highlighted(client, cast):
    import_projects(national_list(LISTED), entry=Entry.NATIONAL_LIST)
    credit_entry(cast["learner"], activity_name="心衰新进展", credits=9, hours=27, start_date=date(2026, 5, 9))
    entry, page = queue_row(client, cast["unit_admin"])
    from credits.rules import catalogue_check

    assert catalogue_check(entry).mismatches == {"name", "credits", "dates"}
    assert "与录入不一致" in page and page.count("text-danger fw-bold") >= 3


def test_a_number_not_in_any_list_is_flagged_not_refused(client, cast):
    entry = credit_entry(cast["learner"], activity_number="2026-03-01-777（国）")
    assert entry.pk
    _row, page = queue_row(client, cast["unit_admin"])
    assert "未在公布项目中查到" in page
    client.force_login(cast["unit_admin"])
    assert "未在公布项目中查到" in client.get(reverse("credits:entry_detail", args=[entry.pk])).content.decode()


def test_categories_outside_the_lists_are_not_flagged(client, cast):
    credit_entry(
        cast["learner"],
        category="counterpart",
        activity_name="对口支援",
        activity_number="",
        issuer="某县医院",
        credits=5,
        hours=0,
    )
    _row, page = queue_row(client, cast["unit_admin"])
    assert "未在公布项目中查到" not in page


def test_a_list_is_imported_by_a_worker_with_progress(cast, tree):
    rows = [
        [f"2026-03-01-{n:03d}（国）", f"项目{n}", "中华医学会", "负责人", "", "2026年5月10日-5月12日", "国家级I类4分"]
        for n in range(1, 451)
    ]
    upload = sheet(*rows)
    job = project_services.request_catalogue_import(
        cast["province_admin"], upload, entry=Entry.NATIONAL_LIST, as_of=date(2026, 11, 16)
    )
    seen = []
    from django.core.cache import cache

    original = cache.set

    def spy(key, value, *args, **kwargs):
        if key == f"catalogue-import:{job.pk}":
            seen.append(value)
        return original(key, value, *args, **kwargs)

    cache.set = spy
    try:
        assert project_services.run_catalogue_import(job.pk) == ImportState.DONE
        assert project_services.run_catalogue_import(job.pk) == "taken"  # a redelivered task does nothing
    finally:
        cache.set = original
    job.refresh_from_db()
    assert (job.state, job.imported, job.as_of) == (ImportState.DONE, 450, date(2026, 11, 16))
    assert seen[0] == (0, 900) and seen[-1] == (900, 900) and len(seen) >= 5  # the check pass and the import pass


def test_one_bad_row_imports_nothing_and_is_named(cast):
    rows = [LISTED, ["2026-03-01-002（国）", "项目二", "", "负责人", "", "2026年13月1日-13月2日", "国家级I类4分"]]
    job = project_services.request_catalogue_import(cast["province_admin"], sheet(*rows), entry=Entry.NATIONAL_LIST)
    assert project_services.run_catalogue_import(job.pk) == ImportState.FAILED
    job.refresh_from_db()
    assert job.errors == [{"row": 3, "reason": "举办日期“2026年13月1日-13月2日”不是存在的日期。"}]
    from projects.models import Project

    assert not Project.objects.exists()


def test_the_import_pages_are_the_provinces(client, cast):
    job = CatalogueImport.objects.create(
        entry=Entry.NATIONAL_LIST,
        original_name="x.xlsx",
        requested_by=cast["province_admin"],
        file=SimpleUploadedFile("x.xlsx", b"PK"),
    )
    client.force_login(cast["province_admin"])
    assert client.get(reverse("projects:import_status", args=[job.public_id])).status_code == 200
    other = staff("province_admin", cast["province_admin"].scope_nodes("province_admin").first())
    client.force_login(other)
    assert client.get(reverse("projects:import_status", args=[job.public_id])).status_code == 404


def test_tcm_is_not_flagged_and_an_out_of_province_national_number_is(client, cast):
    from credits.models import CreditEntry
    from credits.rules import catalogue_check
    from credits.selectors import entries

    credit_entry(cast["learner"], category="tcm_national", activity_number="中医2026-001", credits=3, hours=9)
    credit_entry(
        cast["learner"],
        category="out_of_province",
        activity_number="2026-04-01-002（国）",
        credits=3,
        hours=9,
        mode="offline",
        evidence_items=["certificate", "notice", "cme_query", "approval", "invoice", "travel"],
    )
    checks = {e.category: catalogue_check(e).not_found for e in entries().filter(pk__in=CreditEntry.objects.values("pk"))}
    assert checks == {"tcm_national": False, "out_of_province": True}


def test_an_entry_of_a_later_session_is_no_date_mismatch(client, cast):
    from projects.models import Project, Session, SessionState

    import_projects(national_list(LISTED), entry=Entry.NATIONAL_LIST)
    project = Project.objects.get()
    Session.objects.create(
        project=project,
        sequence=2,
        venue="x",
        start_date=date(2026, 8, 1),
        end_date=date(2026, 8, 3),
        credits=8,
        hours=24,
        state=SessionState.FILED,
    )
    credit_entry(cast["learner"], start_date=date(2026, 8, 1), end_date=date(2026, 8, 3))
    _entry, page = queue_row(client, cast["unit_admin"])
    assert "与录入不一致" not in page


def test_the_national_list_takes_a_project_an_organiser_entered(cast, tree):
    from projects.models import Discipline, Project

    parent = Discipline.objects.create(year=2026, code="03", name="临床内科学")
    cardio = Discipline.objects.create(year=2026, code="03-01", name="心血管病学", parent=parent)
    project_services.enter_national_project(
        cast["organiser"],
        number="2026-03-01-001（国）",
        name="心力衰竭诊治新进展",
        discipline=cardio,
        leader="张三",
        year=2026,
        credits=8,
        hours=24,
        sequence=1,
        venue="甲市",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 3),
    )
    assert import_projects(national_list(LISTED), entry=Entry.NATIONAL_LIST) == 1
    project = Project.objects.get()
    assert project.entry == Entry.DECLARED and project.sessions.get().state == "draft"


def test_a_job_whose_worker_died_is_taken_again(cast):
    from datetime import timedelta

    from django.utils import timezone

    job = project_services.request_catalogue_import(cast["province_admin"], sheet(LISTED), entry=Entry.NATIONAL_LIST)
    CatalogueImport.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, started_at=timezone.now())
    assert project_services.run_catalogue_import(job.pk) == "taken"  # still running elsewhere
    long_ago = timezone.now() - timedelta(seconds=project_services.IMPORT_TIME_LIMIT + 60)
    CatalogueImport.objects.filter(pk=job.pk).update(started_at=long_ago)
    assert project_services.run_catalogue_import(job.pk) == ImportState.DONE
