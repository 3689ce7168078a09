"""Exports and imports that do not hold a request (issue 12, item 2): the compliance report's Excel and a
large platform file are done by a worker (tasks are eager in tests) while a page shows their progress;
only the person who asked sees the job or its file; running a job twice does nothing twice."""

import io
from datetime import timedelta
from urllib.parse import urlencode

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from cme_portal.accounts.models import Role, User
from credits import jobs, selectors
from credits.models import BackgroundJob, CreditRecord, Platform
from credits.tasks import purge_expired_jobs, run_background_job

from .factories import learner, staff
from .test_compliance import YEAR, people, platform_file  # noqa: F401  (fixture)
from .test_exports import FORMULA

pytestmark = pytest.mark.django_db


def ask_export(client, on_commit, query=None):
    with on_commit(execute=True):
        asked = client.post(f"{reverse('credits:compliance_export')}?{urlencode(query or {'year': YEAR})}")
    assert asked.status_code == 302
    return BackgroundJob.objects.get(public_id=asked["Location"].rstrip("/").split("/")[-1])


def sheet_rows(response):
    content = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_province_export_is_built_by_a_job_and_matches_the_report(client, tree, people, cast, django_capture_on_commit_callbacks):  # noqa: F811
    User.objects.filter(pk=people["ok"].pk).update(name=FORMULA)
    admin = cast["province_admin"]
    client.force_login(admin)

    job = ask_export(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("credits:job_status", args=[job.public_id]))
    assert page.context["job"].state == "done" and page.context["job"].percent == 100
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert reverse("credits:job_download", args=[job.public_id]) in page.content.decode()

    download = client.get(reverse("credits:job_download", args=[job.public_id]))
    assert download["Cache-Control"].startswith("no-store")
    assert download["Content-Disposition"].startswith(f'attachment; filename="compliance-{YEAR}-')
    header, *rows = sheet_rows(download)
    assert header[1] == "姓名"
    report = selectors.compliance_report(admin, filters={"year": YEAR})
    expected = {(p.user.name, float(p.c1), float(p.c2), "是" if p.compliant else "否") for p in report.learners.iterator()}
    got = {(row[1].removeprefix("'") if row[1].startswith("'=") else row[1], row[4], row[5], row[7]) for row in rows}
    assert got == expected and len(rows) == len(expected) == job.__class__.objects.get(pk=job.pk).total
    assert "'" + FORMULA in [row[1] for row in rows]  # the formula-looking name stays text

    # Another admin, of another city or even of the same province, finds neither the job nor its file.
    for other in (cast["other_city_admin"], staff(Role.PROVINCE_ADMIN, tree["province"], name="另一省办")):
        client.force_login(other)
        assert client.get(reverse("credits:job_status", args=[job.public_id])).status_code == 404
        assert client.get(reverse("credits:job_download", args=[job.public_id])).status_code == 404


def test_a_waiting_export_refreshes_itself_and_has_no_file_yet(client, cast):
    client.force_login(cast["city_admin"])
    asked = client.post(f"{reverse('credits:compliance_export')}?year={YEAR}")  # not committed: not run yet
    job = BackgroundJob.objects.get()
    assert asked["Location"] == reverse("credits:job_status", args=[job.public_id])
    page = client.get(asked["Location"])
    assert 'http-equiv="refresh"' in page.content.decode() and "排队中" in page.content.decode()
    assert client.get(reverse("credits:job_download", args=[job.public_id])).status_code == 404
    # A GET of the export URL makes nothing: it leads back to the report.
    assert client.get(reverse("credits:compliance_export"), {"year": YEAR}).status_code == 302
    assert BackgroundJob.objects.count() == 1


def test_a_job_runs_once_and_a_dead_workers_job_is_taken_again(cast, people, django_capture_on_commit_callbacks):  # noqa: F811
    job = jobs.request_compliance_export(cast["province_admin"], {"year": str(YEAR)})
    assert run_background_job(job.pk) == "done"
    job.refresh_from_db()
    name, finished, total = job.file.name, job.finished_at, job.total
    assert total >= len(people)
    assert run_background_job(job.pk) == "taken"
    job.refresh_from_db()
    assert (job.file.name, job.finished_at) == (name, finished)

    # A worker died mid-way an hour ago: the reconciler queues the job again and it is built anew.
    stale = timezone.now() - timedelta(seconds=jobs.JOB_TIME_LIMIT + 60)
    BackgroundJob.objects.filter(pk=job.pk).update(state="running", started_at=stale, done=0)
    from certificates.reconcile import reconcile

    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile(grace_seconds=0)["background_jobs"] == 1
    job.refresh_from_db()
    assert job.state == "done" and job.total == total and job.file.storage.exists(job.file.name)


def test_expired_files_are_purged_and_no_longer_served(client, cast):
    job = jobs.request_compliance_export(cast["province_admin"], {"year": str(YEAR)})
    run_background_job(job.pk)
    job.refresh_from_db()
    client.force_login(cast["province_admin"])
    assert client.get(reverse("credits:job_download", args=[job.public_id])).status_code == 200
    BackgroundJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("credits:job_download", args=[job.public_id])).status_code == 404
    assert purge_expired_jobs() == 1
    assert not job.file.storage.exists(job.file.name)
    assert "文件已过期" in client.get(reverse("credits:job_status", args=[job.public_id])).content.decode()


def feed_rows(people_, count):
    """``count`` rows over ``people_``; every 50th names nobody registered, every 75th gives credits as words."""
    rows, refused = [], []
    for index in range(count):
        person = people_[index % len(people_)]
        line = index + 2
        row = [f"R-{index}", person.id_number, person.name, f"2026-03-01-{index:04d}（国）", "远程课程", 1, 3, "I", "2026-03-01"]
        if index % 50 == 49:
            row[1:3] = ["110105194912310029", "不存在"]
            refused.append(line)
        elif index % 75 == 74:
            row[5] = "一分"
            refused.append(line)
        rows.append(row)
    return rows, refused


def test_a_600_row_platform_file_goes_through_a_job_and_names_refused_lines(
    client, tree, cast, django_capture_on_commit_callbacks
):
    people_ = [learner(unit=tree["unit_a"], name=f"学员{i}") for i in range(12)]
    rows, refused = feed_rows(people_, 600)
    platform = Platform.objects.get(name="中华医学电子音像出版社")
    client.force_login(cast["province_admin"])

    def send():
        with django_capture_on_commit_callbacks(execute=True):
            asked = client.post(reverse("credits:platform_import"), {"platform": platform.pk, "file": platform_file(*rows)})
        assert asked.status_code == 302
        return client.get(asked["Location"])

    page = send()
    job = page.context["job"]
    assert job.kind == "platform_import" and job.state == "done" and (job.done, job.total) == (600, 600)
    result = job.result
    assert result["imported"] == 600 - len(refused) and result["refused_count"] == len(refused)
    assert [row for row, _reason in result["refused"]] == refused
    text = page.content.decode()
    assert f"导入 {600 - len(refused)} 条，跳过 0 条，拒绝 {len(refused)} 条" in text
    assert f"第 {refused[0]} 行" in text and "未在平台注册" in text
    assert CreditRecord.objects.filter(source="platform").count() == 600 - len(refused)

    # Running the job again does nothing; sending the same file again imports nothing twice.
    assert run_background_job(job.pk) == "taken"
    again = send().context["job"].result
    assert (again["imported"], again["skipped_count"], again["refused_count"]) == (0, 600 - len(refused), len(refused))
    assert CreditRecord.objects.filter(source="platform").count() == 600 - len(refused)

    client.force_login(cast["other_city_admin"])
    assert client.get(reverse("credits:job_status", args=[job.public_id])).status_code == 404


def test_a_small_platform_file_stays_in_the_request(client, tree, cast):
    person = learner(unit=tree["unit_a"], name="王医生")
    client.force_login(cast["province_admin"])
    page = client.post(
        reverse("credits:platform_import"),
        {
            "platform": Platform.objects.get(name="中华医学电子音像出版社").pk,
            "file": platform_file(("Z-1", person.id_number, "王医生", "2026-03-01-201（国）", "课程", 1, 3, "I", "2026-04-01")),
        },
    )
    assert page.status_code == 200 and "导入 1 条，跳过 0 条，拒绝 0 条" in page.content.decode()
    assert not BackgroundJob.objects.exists()


def test_an_unreadable_large_file_fails_with_a_reason(cast):
    job = BackgroundJob(kind="platform_import", requested_by=cast["province_admin"], params={"platform": "无此平台"})
    job.file.save("feed.xlsx", ContentFile(b"PK not a workbook"), save=False)
    job.save()
    assert run_background_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == "failed" and "处理失败" in job.result["error"]


def sheet(*numbers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    book = openpyxl.Workbook()
    book.active.append(["证件号"])
    for number in numbers:
        book.active.append([number])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("list.xlsx", buffer.getvalue())


def test_a_large_batch_sheet_is_entered_by_a_job_all_or_nothing(
    client, tree, cast, monkeypatch, django_capture_on_commit_callbacks
):
    from credits.models import CreditEntry

    from .test_credits import FORM, png

    # The threshold is lowered so a few learners make a "large" sheet (the path is the same at 10,000).
    monkeypatch.setattr(jobs, "INLINE_ROWS", 2)
    colleagues = [learner(unit=tree["unit_a"], name=f"同事{i}") for i in range(3)]
    client.force_login(cast["unit_admin"])

    def send(number, *ids):
        data = {**FORM, "category": "district_ii", "credit_class": "II", "credits": "2", "hours": "12"}
        with django_capture_on_commit_callbacks(execute=True):
            asked = client.post(
                reverse("credits:batch_new"),
                {**data, "activity_number": number, "evidence": [png()], "sheet": sheet(*ids)},
            )
        assert asked.status_code == 302, asked.content.decode()[:2000]
        return client.get(asked["Location"])

    refused = send("锦医学会2026-09", *[c.id_number for c in colleagues], cast["other_learner"].id_number)
    assert refused.context["job"].kind == "batch_entry" and refused.context["job"].state == "done"
    assert "第 5 行" in refused.content.decode() and "未录入任何学分" in refused.content.decode()
    assert not CreditEntry.objects.filter(activity_number="锦医学会2026-09").exists()

    page = send("锦医学会2026-09", *[c.id_number for c in colleagues])
    assert page.context["job"].result == {"imported": 3, "problems": []}
    entries = CreditEntry.objects.filter(activity_number="锦医学会2026-09")
    assert sorted(e.learner.name for e in entries) == ["同事0", "同事1", "同事2"]
    assert all(e.source == "batch" and e.evidence for e in entries)
    assert run_background_job(page.context["job"].pk) == "taken"
    assert entries.count() == 3

    client.force_login(cast["other_unit_admin"])
    assert client.get(reverse("credits:job_status", args=[page.context["job"].public_id])).status_code == 404
