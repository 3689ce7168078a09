"""Every bad input gets a clear answer (issue 16, item 4): files, numbers, names and Excel rows.

Each case is sent through the test client as a person would send it, with exceptions turned into
responses (as in production). It asserts: no 500; a refusal is a 4xx page or a form error carrying a
Chinese message, and writes nothing; an acceptance writes exactly the expected row.
"""

import io
import re
from dataclasses import dataclass
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import User
from credits.models import CreditEntry
from projects.models import Material, Project

from . import badfiles
from .factories import ENTRY, pdf_bytes, session_for

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]{2,}")


@dataclass
class Case:
    name: str
    send: object  # (client, ctx) -> response
    accept: bool
    count: object  # (ctx) -> number of rows the case may write
    expect_in_page: str = ""


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type)


def entry_data(**changes):
    data = {
        **{k: v for k, v in ENTRY.items() if v is not None},
        "start_date": "2026-05-10",
        "end_date": "2026-05-12",
        "lecturer": "",
    }
    data.pop("certificate_date", None)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post_entry(files=None, **changes):
    files = [upload("evidence.pdf", pdf_bytes("ok"), "application/pdf")] if files is None else files

    def send(client, ctx):
        client.force_login(ctx["learner"])
        return client.post(reverse("credits:entry_new"), {**entry_data(**changes), "evidence": files})

    return send


def entries(ctx):
    return CreditEntry.objects.count()


def post_material(content, name="notice.pdf", kind="notice"):
    def send(client, ctx):
        client.force_login(ctx["organiser"])
        return client.post(
            reverse("projects:material_upload", args=[ctx["draft"].pk]),
            {"kind": kind, "file": upload(name, content)},
            follow=True,
        )

    return send


def materials(ctx):
    return Material.objects.count()


def sms_request(mobile):
    def send(client, ctx):
        with ctx["on_commit"](execute=True):
            return client.post(reverse("accounts:register"), {**ctx["registration"], "mobile": mobile, "action": "send_code"})

    return send


def sms_sent(ctx):
    from cme_portal.accounts import sms

    return len(sms.outbox)


def register_as(**changes):
    def send(client, ctx):
        from cme_portal.accounts.models import SmsPurpose
        from cme_portal.accounts.services import send_sms_code

        data = {**ctx["registration"], **changes}
        from cme_portal.accounts.validators import normalise_mobile

        code = send_sms_code(normalise_mobile(data["mobile"]), SmsPurpose.REGISTER)
        return client.post(
            reverse("accounts:register"), {**data, "sms_code": changes.get("sms_code", code), "action": "register"}
        )

    return send


def users(ctx):
    return User.objects.count()


def xlsx(*rows, headers=("项目编号", "项目名称", "主办单位", "项目负责人", "协办单位", "举办日期", "学分")):
    book = openpyxl.Workbook()
    book.active.append(list(headers))
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_ROW = [
    "2021-03-05-129（国）",
    "康复管理",
    "中国康复医学会",
    "边学燕",
    "宁波市第一医院",
    "2021年3月27日-3月28日",
    "国家级I类4分",
]


def import_list(content, name="list.xlsx"):
    def send(client, ctx):
        client.force_login(ctx["province_admin"])
        with ctx["on_commit"](execute=True):
            response = client.post(reverse("projects:project_import"), {"entry": "remote_filed", "file": upload(name, content)})
        if response.status_code == 302:  # the worker ran (eagerly): the status page says how it ended
            return client.get(response["Location"])
        return response

    return send


def projects(ctx):
    return Project.objects.count()


def platform_file(*rows, headers=("记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期")):
    return xlsx(*rows, headers=headers)


def platform_row(ctx_learner_id="{ID}", **changes):
    values = {
        "record": "HYW-2026-0001",
        "id": ctx_learner_id,
        "name": "{NAME}",
        "number": "2026-03-11-901（国）",
        "title": "远程教育：合理用药",
        "credits": 2,
        "hours": 6,
        "class": "I",
        "date": "2026-02-11",
    }
    values.update(changes)
    return list(values.values())


def import_platform(*rows, raw=None):
    def send(client, ctx):
        from credits.models import Platform

        person = ctx["learner"]
        full_id = person.id_number.translate(FULL)
        filled = [
            [str(c).replace("{FULLID}", full_id).replace("{ID}", person.id_number).replace("{NAME}", person.name) for c in r]
            for r in rows
        ]
        client.force_login(ctx["province_admin"])
        content = raw if raw is not None else platform_file(*filled)
        platform = Platform.objects.filter(active=True).first()
        return client.post(reverse("credits:platform_import"), {"platform": platform.pk, "file": upload("feed.xlsx", content)})

    return send


def ledger(ctx):
    from credits.models import CreditRecord

    return CreditRecord.objects.count()


def row(**changes):
    keys = ["number", "name", "sponsor", "leader", "co", "dates", "award"]
    values = dict(zip(keys, GOOD_ROW))
    values.update(changes)
    return [values[k] for k in keys]


def too_many_files(count):
    return [upload(f"p{n}.pdf", pdf_bytes(str(n)), "application/pdf") for n in range(count)]


def declared_length(length):
    def send(client, ctx):
        client.force_login(ctx["learner"])
        return client.generic(
            "POST", reverse("credits:entry_new"), b"x" * 10, content_type="application/pdf", CONTENT_LENGTH=str(length)
        )

    return send


def many_fields(client, ctx):
    client.force_login(ctx["learner"])
    return client.post(reverse("credits:entry_new"), {f"f{n}": "x" for n in range(1100)})


FULL = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
ID = "11010519491231002X"

CASES = [
    # --- files as credit evidence -------------------------------------------------------------
    Case("evidence: 30000×30000 PNG", post_entry([upload("big.png", badfiles.png_header(30000, 30000))]), False, entries, "像素"),
    Case(
        "evidence: JPEG claiming 60000×60000",
        post_entry([upload("big.jpg", badfiles.jpeg_header(60000, 60000))]),
        False,
        entries,
        "像素",
    ),
    Case("evidence: PNG 30000×10", post_entry([upload("wide.png", badfiles.png_header(30000, 10))]), False, entries, "像素"),
    Case(
        "evidence: 5000-deep nested PDF",
        post_entry([upload("deep.pdf", badfiles.nested_pdf())]),
        False,
        entries,
        "无法作为 PDF 读取",
    ),
    Case("evidence: PDF/HTML polyglot", post_entry([upload("poly.pdf", badfiles.polyglot_pdf())]), False, entries, "网页或脚本"),
    Case(
        "evidence: script after %%EOF", post_entry([upload("tail.pdf", badfiles.html_after_eof())]), False, entries, "网页或脚本"
    ),
    Case("evidence: truncated PDF", post_entry([upload("cut.pdf", badfiles.truncated_pdf())]), False, entries, "不是完整的 PDF"),
    Case(
        "evidence: PDF header then noise",
        post_entry([upload("noise.pdf", badfiles.garbage_pdf())]),
        False,
        entries,
        "无法作为 PDF 读取",
    ),
    Case("evidence: encrypted PDF", post_entry([upload("locked.pdf", badfiles.encrypted_pdf())]), False, entries, "已加密"),
    Case("evidence: truncated PNG", post_entry([upload("cut.png", badfiles.truncated_png())]), False, entries, "无法读取"),
    Case(
        "evidence: ZIP named .pdf", post_entry([upload("a.pdf", badfiles.zip_renamed())]), False, entries, "不是 PDF、JPEG 或 PNG"
    ),
    Case(
        "evidence: Windows program",
        post_entry([upload("a.pdf", b"MZ\x90\x00" + b"\0" * 512)]),
        False,
        entries,
        "不是 PDF、JPEG 或 PNG",
    ),
    Case("evidence: empty file", post_entry([upload("empty.pdf", b"")]), False, entries, ""),
    Case("evidence: GIF", post_entry([upload("a.gif", b"GIF89a" + b"\0" * 64)]), False, entries, "不是 PDF、JPEG 或 PNG"),
    Case(
        "evidence: HTML page",
        post_entry([upload("a.pdf", b"<html><script>alert(1)</script></html>")]),
        False,
        entries,
        "不是 PDF",
    ),
    Case(
        "evidence: good and bad together",
        post_entry([upload("ok.pdf", pdf_bytes("ok")), upload("deep.pdf", badfiles.nested_pdf())]),
        False,
        entries,
        "deep.pdf",
    ),
    Case("evidence: 21 files", post_entry(too_many_files(21)), False, entries, "最多 20 个文件"),
    Case("evidence: 101 files", post_entry(too_many_files(101)), False, entries, "一次最多上传 100 个文件"),
    Case("evidence: none", post_entry([]), False, entries, "证明材料"),
    Case("request: 400 MB declared", declared_length(400 * 1024 * 1024), False, entries, "不能超过 51 MB"),
    Case("request: 1,100 form fields", many_fields, False, entries, "表单项过多"),
    Case("evidence: a PDF", post_entry(), True, entries),
    Case("evidence: a PNG", post_entry([upload("p.png", badfiles.real_image("PNG"))]), True, entries),
    Case("evidence: a JPEG", post_entry([upload("p.jpg", badfiles.real_image("JPEG"))]), True, entries),
    Case(
        "evidence: PDF + PNG + JPEG",
        post_entry(
            [
                upload("a.pdf", pdf_bytes("a")),
                upload("b.png", badfiles.real_image()),
                upload("c.jpg", badfiles.real_image("JPEG")),
            ]
        ),
        True,
        entries,
    ),
    # --- files as hosting materials -------------------------------------------------------------
    Case("material: 30000×30000 PNG", post_material(badfiles.png_header(30000, 30000), "n.png"), False, materials, "像素"),
    Case(
        "material: JPEG claiming 60000×60000",
        post_material(badfiles.jpeg_header(60000, 60000), "n.jpg"),
        False,
        materials,
        "像素",
    ),
    Case("material: nested PDF", post_material(badfiles.nested_pdf()), False, materials, "无法作为 PDF 读取"),
    Case("material: PDF/HTML polyglot", post_material(badfiles.polyglot_pdf()), False, materials, "网页或脚本"),
    Case("material: script after %%EOF", post_material(badfiles.html_after_eof()), False, materials, "网页或脚本"),
    Case("material: a PDF", post_material(pdf_bytes("notice")), True, materials),
    Case("material: a PNG schedule", post_material(badfiles.real_image(), "s.png", "schedule"), True, materials),
    # --- numbers ---------------------------------------------------------------------------------
    Case("credits: full-width 1.5", post_entry(credits="１.５", hours="９"), True, entries),
    Case("credits: Arabic-Indic 2", post_entry(credits="٢", hours="٦"), True, entries),
    Case("credits: letters", post_entry(credits="five"), False, entries, "数字"),
    Case("credits: negative", post_entry(credits="-3"), False, entries, ""),
    Case("credits: NaN", post_entry(credits="NaN"), False, entries, ""),
    Case("credits: Infinity", post_entry(credits="Infinity"), False, entries, ""),
    Case("credits: 1e400", post_entry(credits="1e400"), False, entries, ""),
    Case("hours: 20 digits", post_entry(hours="99999999999999999999"), False, entries, ""),
    Case("dates: full-width", post_entry(start_date="２０２６-０５-１０", end_date="２０２６-０５-１２"), True, entries),
    Case("dates: 31 February", post_entry(start_date="2026-02-31"), False, entries, "日期"),
    Case("dates: year 99999", post_entry(start_date="99999-01-01"), False, entries, "日期"),
    Case("activity number: full-width digits", post_entry(activity_number="２０２６-０３-０１-００１（国）"), True, entries),
    Case("mobile for SMS: full-width", sms_request("13912345678".translate(FULL)), True, sms_sent),
    Case("mobile for SMS: Arabic-Indic", sms_request("13912345678".translate(ARABIC)), True, sms_sent),
    Case("mobile for SMS: mixed scripts", sms_request("139١٢３४5678"), True, sms_sent),
    Case("mobile for SMS: +86 and spaces", sms_request("+86 139 1234 5678"), True, sms_sent),
    Case("mobile for SMS: letters", sms_request("1391234abcd"), False, sms_sent, "手机号码应为 11 位数字"),
    Case("mobile for SMS: 10 digits", sms_request("1391234567"), False, sms_sent, "手机号码应为 11 位数字"),
    Case("mobile for SMS: landline", sms_request("02512345678"), False, sms_sent, "手机号码应为 11 位数字"),
    Case(
        "register: full-width mobile and ID",
        register_as(mobile="13912345678".translate(FULL), id_number=ID.translate(FULL)),
        True,
        users,
    ),
    Case("register: Devanagari ID", register_as(id_number=ID.translate(DEVANAGARI)), True, users),
    Case("register: ID with a wrong check digit", register_as(id_number="110105194912310021"), False, users, "校验位"),
    # --- names -----------------------------------------------------------------------------------
    Case("register: 51-character name", register_as(name="张" * 51), False, users, "不超过 50"),
    Case("register: NUL in the name", register_as(name="王\x00英"), False, users, ""),
    Case("register: formula as a name", register_as(name='=HYPERLINK("http://x","点")'), True, users),
    Case("register: rare-character name", register_as(name="𠀀𪚥"), True, users),
    Case("entry: 10,000-character activity", post_entry(activity_name="学" * 10000), False, entries, "不超过 200"),
    Case("entry: NUL in the issuer", post_entry(issuer="中华\x00医学会"), False, entries, ""),
    # --- Excel rows ------------------------------------------------------------------------------
    Case("list: a good row", import_list(xlsx(GOOD_ROW)), True, projects),
    Case("list: not Excel", import_list(b"<html></html>"), False, projects, "请上传 Excel"),
    Case("list: ZIP that is no workbook", import_list(b"PK\x03\x04" + b"\0" * 200), False, projects, "无法读取文件"),
    Case("list: missing columns", import_list(xlsx(["x"], headers=["项目编号"])), False, projects, "缺少列"),
    Case("list: empty name", import_list(xlsx(row(name=""))), False, projects, "第 2 行"),
    Case("list: impossible dates", import_list(xlsx(row(dates="2021年2月30日-3月1日"))), False, projects, "第 2 行"),
    Case("list: credits 9999999", import_list(xlsx(row(award="国家级I类9999999分"))), False, projects, "第 2 行"),
    Case("list: duplicate numbers", import_list(xlsx(GOOD_ROW, GOOD_ROW)), False, projects, "重复"),
    Case("list: a formula cell (no value)", import_list(xlsx(row(name="=1+1"))), False, projects, "第 2 行"),
    Case("list: our export's quoted cell", import_list(xlsx(row(name="'=1+1 讲座"))), True, projects),
    Case("list: 300-character name", import_list(xlsx(row(name="项" * 300))), False, projects, "第 2 行"),
    Case("platform: a good row", import_platform(platform_row()), True, ledger),
    Case("platform: full-width ID number", import_platform(platform_row(id="{FULLID}")), True, ledger),
    Case("platform: unknown ID number", import_platform(platform_row(id="11010519491231002X")), False, ledger, "未在平台注册"),
    Case("platform: credits NaN", import_platform(platform_row(credits="NaN")), False, ledger, "学分"),
    Case("platform: hours NaN", import_platform(platform_row(hours="NaN")), False, ledger, "学时"),
    Case("platform: hours 99999999", import_platform(platform_row(hours="99999999")), False, ledger, "学时"),
    Case("platform: credits 30", import_platform(platform_row(credits="30")), False, ledger, "不超过 25 分"),
    Case("platform: date 2026-02-30", import_platform(platform_row(date="2026-02-30")), False, ledger, "完成日期"),
    Case("platform: not a sheet", import_platform(raw=b"<html></html>"), False, ledger, "缺少列"),
]


@pytest.fixture
def ctx(cast, tree, django_capture_on_commit_callbacks):
    return {
        **cast,
        "draft": session_for(cast["organiser"], materials=False, start_date=date(2027, 3, 1), end_date=date(2027, 3, 2)),
        "on_commit": django_capture_on_commit_callbacks,
        "registration": {
            "id_type": "resident_id",
            "id_number": ID,
            "name": "王秀英",
            "birth_date": "",
            "sex": "",
            "title": "intermediate",
            "position": "staff",
            "region": tree["city_a"].pk,
            "unit": tree["unit_a"].pk,
            "unit_name": "",
            "mailing_address": "甲市健康路 8 号",
            "department": "心内科",
            "password1": "Winter-Plum-2026",
            "password2": "Winter-Plum-2026",
            "mobile": "13912345678",
        },
    }


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert {case.accept for case in CASES} == {True, False}


def _messages(response):
    form = (response.context or {}).get("form") if response.context else None
    errors = " ".join(" ".join(map(str, errs)) for errs in form.errors.values()) if form is not None and form.errors else ""
    return errors + " " + response.content.decode(errors="replace")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_bad_input_gets_a_clear_answer(client, ctx, case):
    client.raise_request_exception = False
    before = case.count(ctx)

    response = case.send(client, ctx)

    assert response.status_code != 500, case.name
    after = case.count(ctx)
    if case.accept:
        assert after == before + 1, (case.name, _messages(response)[:2000])
        return
    assert after == before, case.name  # nothing half-written
    form = response.context.get("form") if response.context else None
    refused_at_form = response.status_code == 200 and form is not None and bool(form.errors)
    report = response.context.get("report") if response.context else None
    refused_page = (
        400 <= response.status_code < 500
        or (response.status_code == 200 and "未导入" in response.content.decode())
        or bool(report and report.refused)
    )
    flashed = [str(m) for m in (response.context.get("messages") or []) if m.level_tag == "error"] if response.context else []
    assert refused_at_form or refused_page or flashed, (case.name, response.status_code)
    if report and report.refused:
        text = " ".join(str(reason) for _row, reason in report.refused)
    elif refused_at_form:
        text = " ".join(str(e) for errs in form.errors.values() for e in errs)
    elif flashed:
        text = " ".join(flashed)
    else:
        text = response.content.decode()
    assert CHINESE.search(text), (case.name, text[:500])
    assert case.expect_in_page in text, (case.name, text[:3000])


def test_nesting_is_measured_outside_strings_and_streams():
    from cme_portal.uploads import MAX_PDF_NESTING, pdf_nesting_too_deep

    assert pdf_nesting_too_deep(badfiles.nested_pdf(MAX_PDF_NESTING + 1))
    assert not pdf_nesting_too_deep(badfiles.nested_pdf(MAX_PDF_NESTING - 2))  # the page adds one level
    deep = b"[" * 5000
    assert not pdf_nesting_too_deep(b"%PDF-1.4\n(" + deep + b")\n%%EOF")  # inside a string
    assert not pdf_nesting_too_deep(b"%PDF-1.4\n1 0 obj <<>> stream\n" + deep + b"\nendstream endobj\n%%EOF")
    assert not pdf_nesting_too_deep(b"%PDF-1.4\n% " + deep + b"\n%%EOF")  # a comment
