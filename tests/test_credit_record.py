"""Issue 13 item 5: the learner's credit record (学分登记表): a PDF of the chosen years' effective
credits with totals per class and year against the requirement, and a QR code that verifies it."""

import io
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from credits import record
from credits.models import CreditRecord

from .factories import learner, ledger_row

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def history(cast, tree):
    person = cast["learner"]
    rows = {
        "old": ledger_row(person, year=2021, activity_name="二〇二一年旧讲座", credits=Decimal("4")),
        "a": ledger_row(
            person,
            year=2022,
            activity_name="心电图判读班",
            credit_class="I",
            level="national",
            category="national_i",
            activity_number="2022-03-01-017（国）",
            credits=Decimal("10"),
            start_date=date(2022, 4, 8),
            end_date=date(2022, 4, 10),
            source="award",
        ),
        "b": ledger_row(
            person,
            year=2024,
            activity_name="院内病例讨论",
            credit_class="II",
            level="district",
            category="district_ii",
            credits=Decimal("12.5"),
        ),
        "gone": ledger_row(person, year=2024, activity_name="已冲正的学习班", credits=Decimal("3")),
        "c": ledger_row(
            person,
            year=2026,
            activity_name="急诊急救新进展",
            credits=Decimal("6"),
            start_date=date(2026, 3, 2),
            end_date=date(2026, 3, 2),
        ),
    }
    CreditRecord.objects.create(
        learner=person,
        year=2024,
        credit_class="I",
        level="provincial",
        category="provincial_i",
        credits=Decimal("-3"),
        source="own",
        activity_name="已冲正的学习班",
        status="reversal",
        reverses=rows["gone"],
    )
    ledger_row(cast["other_learner"], year=2024, activity_name="别人的学分")
    return person, rows


def download(client, person, first=2022, last=2026):
    client.force_login(person)
    response = client.get(reverse("credits:my_record"), {"first": first, "last": last})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="credit-record-{min(first, last)}-{max(first, last)}.pdf"'
    return b"".join(response.streaming_content)


def text_of(pdf):
    """The PDF's text, one space between cells (pypdf gives each cell its own line)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_record_lists_the_chosen_years_effective_credits_and_nothing_else(client, history):
    person, rows = history
    pdf = download(client, person)
    text = text_of(pdf)
    for name in ("心电图判读班", "院内病例讨论", "急诊急救新进展", "2022-03-01-017（国）", "2022-04-08"):
        assert name in text, name
    for name in ("二〇二一年旧讲座", "已冲正的学习班", "别人的学分"):
        assert name not in text, name
    assert person.name in text and "继续医学教育学分登记表" in text and "学分明细（共 3 条）" in text
    assert person.id_number not in text and person.id_number[-4:] in text  # masked
    # Totals per year and class against the requirement (the national defaults: 25 a year, I 5–10, II 15–20).
    assert "2022 10 0 10 25 / 5 / 15 未达标" in text
    assert "2024 0 12.5 12.5 25 / 5 / 15 未达标" in text
    assert "2023 0 0 0 25 / 5 / 15 未达标" in text
    assert "合计 16 12.5 28.5" in text
    # The first page as a picture, to look at.
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "credit-record.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            ARTIFACTS / "credit-record.pdf",
            ARTIFACTS / "credit-record",
        ],
        check=True,
    )
    assert (ARTIFACTS / "credit-record.png").stat().st_size > 10_000


def test_the_qr_code_verifies_the_record_and_tells_a_later_change(client, history, monkeypatch):
    import certificates.render

    person, _rows = history
    drawn = []
    original = certificates.render.draw_qr
    monkeypatch.setattr(certificates.render, "draw_qr", lambda page, data, *a: drawn.append(data) or original(page, data, *a))
    download(client, person)
    (url,) = drawn
    path = url.removeprefix("http://testserver").split("://", 1)[-1]
    path = path[path.index("/credits/record/verify/") :]
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "本平台出具，表中学分与平台记录一致。" in body and person.name in body and "2022—2026" in body
    ledger_row(person, year=2025, activity_name="后来的学分")
    assert "出具后学分记录已有变化" in client.get(path).content.decode()
    forged = path.rstrip("/")[:-3] + "xyz/"
    assert client.get(forged).status_code == 404


def test_another_learner_cannot_open_someone_elses_record_job(client, history, cast, django_capture_on_commit_callbacks):
    person, _rows = history
    monkey_limit = record.INLINE_ROWS
    record.INLINE_ROWS = 1  # three rows: rendered by the worker
    try:
        client.force_login(person)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(reverse("credits:my_record"), {"first": 2022, "last": 2026})
    finally:
        record.INLINE_ROWS = monkey_limit
    assert response.status_code == 302 and "/credits/record/jobs/" in response["Location"]
    job_url = response["Location"]
    mine = client.get(job_url)
    assert mine.status_code == 200 and mine["Content-Type"] == "application/pdf"
    assert "心电图判读班" in text_of(b"".join(mine.streaming_content))
    client.force_login(cast["other_learner"])
    assert client.get(job_url).status_code == 404
    client.force_login(cast["unit_admin"])
    assert client.get(job_url).status_code == 404


def test_bad_years_are_told_not_crashed(client, cast):
    client.force_login(cast["learner"])
    page = client.get(reverse("credits:my_record"), {"first": 2011, "last": 2026})
    assert page.status_code == 200 and "一次最多选择 10 个年度。" in page.content.decode()
    page = client.get(reverse("credits:my_record"), {"first": "x", "last": "2026"})
    assert page.status_code == 200 and page.context["form"].errors


def test_the_years_come_in_either_order_and_a_learner_without_credits_gets_an_empty_record(client, tree):
    person = learner(unit=tree["unit_a"], name="新学员")
    client.force_login(person)
    response = client.get(reverse("credits:my_record"), {"first": 2026, "last": 2025})
    text = text_of(b"".join(response.streaming_content))
    assert "2025—2026" in text and "所选年度没有学分记录。" in text


def test_the_credits_page_links_to_the_record(client, cast):
    client.force_login(cast["learner"])
    assert reverse("credits:my_record") in client.get(reverse("credits:my_credits")).content.decode()


def test_a_long_record_turns_pages_and_lists_every_row(client, cast):
    person = cast["learner"]
    for n in range(70):
        ledger_row(person, year=2022 + n % 5, activity_name=f"系列讲座第{n:02d}讲", credits=Decimal("0.5"))
    pdf = download(client, person)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    text = text_of(pdf)
    assert all(f"系列讲座第{n:02d}讲" in text for n in range(70))
    assert "学分明细（共 70 条）" in text and "合计 35 0 35" in text
    assert "活动名称" in pages[1].extract_text()  # the header again on the next page


def test_a_long_activity_name_and_number_are_shown_whole_on_more_lines(client, cast):
    """A record for a promotion names each activity whole: a long name wraps in its column (up to three lines),
    and the rows below move down instead of being drawn over."""
    person = cast["learner"]
    name = "基层医疗卫生机构慢性病综合防治能力提升暨心脑血管疾病规范化诊疗新进展高级研修班"
    ledger_row(person, year=2024, activity_name=name, activity_number="2024-03-01-117（国）")
    ledger_row(person, year=2025, activity_name="下一行的活动")
    pdf = download(client, person)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "credit-record-long-name.pdf").write_bytes(pdf)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    lines = []
    page.extract_text(visitor_text=lambda text, cm, tm, font, size: text.strip() and lines.append((round(tm[5]), text.strip())))
    pieces = [(y, text) for y, text in lines if text in name and len(text) > 1]
    assert "".join(text for _y, text in sorted(pieces, reverse=True)) == name  # every character, in order
    assert len({y for y, _text in pieces}) >= 2  # on more than one line
    below = min(y for y, _text in pieces)
    [(next_row, _text)] = [(y, text) for y, text in lines if text == "下一行的活动"]
    assert next_row < below  # the next row starts under the wrapped name's last line
