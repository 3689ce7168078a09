"""W5 and W6 as the roles do it: entries with evidence, the three-level chain, the ledger."""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from cme_portal.accounts.models import Role
from credits import selectors, services
from credits.models import CreditEntry, CreditPolicy, CreditRecord, EarlyReviewRequest, EntryState
from projects.imports import import_projects

from .factories import learner, pdf_bytes

pytestmark = pytest.mark.django_db


def png(color="red"):
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), color).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), "image/png")


def pdf(name="certificate.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), "application/pdf")


FORM = {
    "category": "national_i",
    "activity_name": "心力衰竭诊治新进展",
    "activity_number": "2026-03-01-001（国）",
    "issuer": "中华医学会",
    "credit_class": "I",
    "start_date": "2026-05-01",
    "end_date": "2026-05-03",
    "certificate_date": "",
    "credits": "8",
    "hours": "24",
}


def act(client, user, entry, action, reason=""):
    client.force_login(user)
    return client.post(reverse("credits:entry_action", args=[entry.pk]), {"action": action, "reason": reason}, follow=True)


def test_learner_enters_a_credit_with_evidence_merged_into_one_pdf(client, cast):
    client.force_login(cast["learner"])
    response = client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf(), png(), png("blue")]})
    assert response.status_code == 302
    entry = CreditEntry.objects.get()
    assert entry.state == EntryState.SUBMITTED and entry.level == "national" and entry.year == 2026
    assert entry.evidence_pages == 3
    download = client.get(reverse("credits:evidence", args=[entry.public_id]))
    assert len(PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages) == 3


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"activity_number": "2026-03-01-001"}, "activity_number", "不要省略（国）"),
        ({"credits": "9"}, "credits", "最多 8 学分"),
        (
            {"category": "district_ii", "credit_class": "II", "credits": "5", "hours": "24", "activity_number": ""},
            "credits",
            "应为 4 学分",
        ),
    ],
)
def test_refusals_keep_what_was_typed(client, cast, change, field, message):
    client.force_login(cast["learner"])
    response = client.post(reverse("credits:entry_new"), {**FORM, **change, "evidence": [pdf()]})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert response.context["form"]["activity_name"].value() == "心力衰竭诊治新进展"
    assert not CreditEntry.objects.exists()


def test_the_same_activity_twice_is_refused(client, cast):
    client.force_login(cast["learner"])
    client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf()]})
    again = client.post(reverse("credits:entry_new"), {**FORM, "activity_number": "2026-03-01-001 (国)", "evidence": [pdf()]})
    assert "同一活动不能重复录入" in " ".join(again.context["form"].errors["activity_number"])
    assert CreditEntry.objects.count() == 1


def test_a_remote_filed_project_is_refused_and_the_learner_told_who_reports_it(client, cast):
    import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed")
    client.force_login(cast["learner"])
    response = client.post(
        reverse("credits:entry_new"),
        {
            **FORM,
            "category": "out_of_province",
            "activity_number": "2021-03-05-129（国）",
            "start_date": "2021-03-27",
            "end_date": "2021-03-28",
            "credits": "4",
            "hours": "12",
            "evidence": [pdf()],
        },
    )
    assert "异地备案" in " ".join(response.context["form"].errors["activity_number"])


def test_a_renamed_executable_as_evidence_is_refused(client, cast):
    client.force_login(cast["learner"])
    exe = SimpleUploadedFile("cert.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")
    response = client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf(), exe]})
    assert "不是 PDF、JPEG 或 PNG" in response.content.decode()
    assert not CreditEntry.objects.exists()


def test_three_levels_with_a_return_and_a_resubmission(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast["learner"])
    client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf()]})
    entry = CreditEntry.objects.get()

    act(client, cast["unit_admin"], entry, "unit_approve")
    page = act(client, cast["city_admin"], entry, "city_return", "学分证与通知日期不一致")
    entry.refresh_from_db()
    assert entry.state == EntryState.RETURNED
    assert not CreditRecord.objects.exists()

    client.force_login(cast["learner"])
    response = client.post(reverse("credits:entry_edit", args=[entry.pk]), {**FORM, "end_date": "2026-05-02", "credits": "8"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.SUBMITTED and str(entry.end_date) == "2026-05-02"

    with django_capture_on_commit_callbacks(execute=True):
        act(client, cast["unit_admin"], entry, "unit_approve")
        act(client, cast["city_admin"], entry, "city_approve")
        assert not CreditRecord.objects.exists()  # counts only once the province approves
        act(client, cast["province_admin"], entry, "province_approve")
    record = CreditRecord.objects.get()
    assert (record.learner, record.credits, record.year, record.entry) == (cast["learner"], D("8"), 2026, entry)

    page = client.get(reverse("credits:entry_detail", args=[entry.pk]))
    assert [e.action for e in page.context["timeline"]] == [
        "submit",
        "unit_approve",
        "city_return",
        "resubmit",
        "unit_approve",
        "city_approve",
        "province_approve",
    ]
    assert "学分证与通知日期不一致" in page.content.decode()


@pytest.mark.parametrize(
    "action, state, allowed, refused",
    [
        ("unit_approve", EntryState.SUBMITTED, "unit_admin", ["learner", "other_unit_admin", "city_admin", "province_admin"]),
        ("city_approve", EntryState.UNIT_APPROVED, "city_admin", ["learner", "unit_admin", "other_city_admin", "province_admin"]),
        (
            "province_approve",
            EntryState.CITY_APPROVED,
            "province_admin",
            ["learner", "unit_admin", "city_admin", "other_city_admin"],
        ),
    ],
)
def test_each_level_acts_only_in_its_scope(client, cast, action, state, allowed, refused):
    client.force_login(cast["learner"])
    client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf()]})
    entry = CreditEntry.objects.get()
    CreditEntry.objects.filter(pk=entry.pk).update(state=state)
    for name in refused:
        client.force_login(cast[name])
        response = client.post(reverse("credits:entry_action", args=[entry.pk]), {"action": action})
        assert response.status_code == 404, name
    act(client, cast[allowed], entry, action)
    entry.refresh_from_db()
    assert entry.state != state


def test_a_unit_admin_never_sees_another_units_learners(client, cast):
    client.force_login(cast["other_learner"])
    client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf()]})
    entry = CreditEntry.objects.get()
    client.force_login(cast["unit_admin"])
    assert client.get(reverse("credits:entry_detail", args=[entry.pk])).status_code == 404
    assert client.get(reverse("credits:evidence", args=[entry.public_id])).status_code == 404
    assert list(client.get(reverse("credits:queue", args=["unit"])).context["page_obj"]) == []
    report = client.get(reverse("credits:compliance_report"))
    assert "孙学员" not in report.content.decode()
    client.force_login(cast["learner"])
    assert client.get(reverse("credits:entry_detail", args=[entry.pk])).status_code == 404


def test_queues_refuse_other_roles(client, cast):
    owners = {
        "unit": {"unit_admin", "other_unit_admin"},
        "city": {"city_admin", "other_city_admin"},
        "province": {"province_admin"},
    }
    for level, names in owners.items():
        for name, user in cast.items():
            client.force_login(user)
            assert client.get(reverse("credits:queue", args=[level])).status_code == (200 if name in names else 404)


def test_early_review_candidates_are_flagged_and_first(client, cast, tree):
    first = learner(unit=tree["unit_a"], name="甲")
    candidate = learner(unit=tree["unit_a"], name="乙（晋升）")
    for person, number in ((first, "2026-03-01-001（国）"), (candidate, "2026-03-01-002（国）")):
        services.enter_credit(
            person,
            evidence=[pdf()],
            **{
                **{k: FORM[k] for k in ("category", "activity_name", "issuer", "credit_class")},
                "activity_number": number,
                "start_date": date(2026, 5, 1),
                "end_date": date(2026, 5, 3),
                "certificate_date": None,
                "credits": D("8"),
                "hours": D("24"),
            },
        )
    CreditPolicy.objects.create(
        province=tree["province"], earliest_year=2022, early_review_deadline=date.today().replace(year=date.today().year + 1)
    )
    client.force_login(cast["unit_admin"])
    response = client.post(reverse("credits:early_review"), {"candidates": [candidate.pk], "title": "副高", "reason": "晋升副高"})
    assert response.status_code == 302
    rows = list(client.get(reverse("credits:queue", args=["unit"])).context["page_obj"])
    assert [r.learner.name for r in rows] == ["乙（晋升）", "甲"] and rows[0].early and not rows[1].early
    assert "晋升副高" in client.get(reverse("credits:early_review")).content.decode()
    EarlyReviewRequest.objects.update(deadline=date(2020, 1, 1))
    rows = list(client.get(reverse("credits:queue", args=["unit"])).context["page_obj"])
    assert not any(r.early for r in rows)


def test_batch_entry_by_ticking_and_by_sheet(client, cast, tree):
    colleague = learner(unit=tree["unit_a"], name="周同事")
    client.force_login(cast["unit_admin"])

    def data(**extra):  # a fresh upload each time: a posted file is read to its end
        return {
            **FORM,
            "category": "district_ii",
            "credit_class": "II",
            "activity_number": "锦医学会2026-07",
            "credits": "2",
            "hours": "12",
            "evidence": [png()],
            **extra,
        }

    response = client.post(reverse("credits:batch_new"), data(learners=[cast["learner"].pk]))
    assert response.status_code == 302
    book = openpyxl.Workbook()
    book.active.append(["证件号"])
    book.active.append([colleague.id_number])
    book.active.append([cast["other_learner"].id_number])  # not of this unit
    buffer = io.BytesIO()
    book.save(buffer)
    refused = client.post(
        reverse("credits:batch_new"),
        data(activity_number="锦医学会2026-08", sheet=SimpleUploadedFile("list.xlsx", buffer.getvalue())),
    )
    assert "第 3 行" in refused.content.decode() and "不是本单位学员" in refused.content.decode()
    assert CreditEntry.objects.filter(activity_number="锦医学会2026-08").count() == 0

    book.active.delete_rows(3)
    buffer = io.BytesIO()
    book.save(buffer)
    client.post(
        reverse("credits:batch_new"),
        data(activity_number="锦医学会2026-08", sheet=SimpleUploadedFile("list.xlsx", buffer.getvalue())),
    )
    entries = CreditEntry.objects.filter(activity_number="锦医学会2026-08")
    assert [e.learner for e in entries] == [colleague]
    assert entries[0].state == EntryState.UNIT_APPROVED and entries[0].source == "batch"


def test_a_correction_reverses_and_replaces_both_visible(cast):
    record = CreditRecord.objects.create(
        learner=cast["learner"],
        year=2026,
        credit_class="I",
        level="national",
        category="national_i",
        credits=D("8"),
        hours=D("24"),
        source="own",
        activity_number="2026-03-01-001（国）",
        activity_key="2026-03-01-001(国)",
        activity_name="心衰进展",
    )
    reversal, replacement = services.correct_record(record, cast["province_admin"], "学分证为 6 分", credits=D("6"))
    assert reversal.credits == D("-8") and reversal.reverses == record
    assert replacement.credits == D("6") and replacement.revision == 1
    history = list(selectors.ledger(cast["learner"]))
    assert {r.pk for r in history} == {record.pk, reversal.pk, replacement.pk}
    from django.db.models import Sum

    assert CreditRecord.objects.filter(learner=cast["learner"]).aggregate(s=Sum("credits"))["s"] == D("6")
    from cme_portal.errors import DomainError

    with pytest.raises(DomainError) as again:
        services.correct_record(record, cast["province_admin"], "再改一次", credits=D("5"))
    assert again.value.code == "already_reversed"
    record.refresh_from_db()
    assert record.credits == D("8")  # the original row itself never changed


def test_approval_is_refused_not_crashed_when_a_platform_already_gave_the_credit(client, cast):
    client.force_login(cast["learner"])
    client.post(reverse("credits:entry_new"), {**FORM, "evidence": [pdf()]})
    entry = CreditEntry.objects.get()
    CreditEntry.objects.filter(pk=entry.pk).update(state=EntryState.CITY_APPROVED)
    CreditRecord.objects.create(
        learner=cast["learner"],
        year=2026,
        credit_class="I",
        level="national",
        category="platform",
        credits=D("8"),
        source="platform",
        activity_name="同一课程",
        activity_key=entry.activity_key,
    )
    page = act(client, cast["province_admin"], entry, "province_approve")
    assert "不能重复计入" in page.content.decode()
    entry.refresh_from_db()
    assert entry.state == EntryState.CITY_APPROVED
    assert CreditRecord.objects.filter(learner=cast["learner"]).count() == 1


def test_a_unit_admin_cannot_push_a_learners_own_draft_past_unit_review(cast):
    from cme_portal.errors import DomainError
    from cme_portal.review.workflow import perform
    from credits.models import CREDIT_ENTRY_WORKFLOW

    draft = CreditEntry.objects.create(
        learner=cast["learner"],
        entered_by=cast["learner"],
        unit=cast["learner"].profile.unit,
        category="national_i",
        activity_name="草稿",
        issuer="x",
        level="national",
        credit_class="I",
        start_date=date(2026, 5, 1),
        end_date=date(2026, 5, 1),
        year=2026,
        credits=D("1"),
        hours=D("3"),
        evidence="evidence/x.pdf",
    )
    with pytest.raises(DomainError) as refused:
        perform(CREDIT_ENTRY_WORKFLOW, draft, "batch_submit", cast["unit_admin"])
    assert refused.value.code == "forbidden"
    assert draft not in CreditEntry.objects.waiting_for(cast["unit_admin"], Role.UNIT_ADMIN)


def test_credit_queues_run_the_same_queries_for_5_and_50_entries(client, cast, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def fill(n):
        for _ in range(n):
            CreditEntry.objects.create(
                learner=cast["learner"],
                entered_by=cast["learner"],
                unit=cast["learner"].profile.unit,
                category="national_i",
                activity_name="活动",
                issuer="x",
                level="national",
                credit_class="I",
                start_date=date(2026, 5, 1),
                end_date=date(2026, 5, 1),
                year=2026,
                credits=D("1"),
                hours=D("3"),
                state=EntryState.SUBMITTED,
                evidence="evidence/x.pdf",
            )

    client.force_login(cast["unit_admin"])
    url = reverse("credits:queue", args=["unit"])
    fill(5)
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    fill(45)
    with CaptureQueriesContext(connection) as fifty:
        client.get(url)
    assert len(five) == len(fifty)
