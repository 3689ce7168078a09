"""The learner's credit record (学分登记表, issue 13): every effective credit of the chosen years, the
totals per year and class against the requirement, and a verification QR code.

The PDF is drawn with the certificates' building blocks (cme_portal.fonts for the embedded CJK font,
certificates.render.draw_qr for the QR code). The QR code carries a signed token (no expiry) naming
the learner, the years, the day it was issued and a digest of the rows it listed; the public verify
page re-reads the ledger and says whether the record is still what was issued.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as pdfcanvas

from cme_portal import fonts
from cme_portal.accounts.selectors import profile_of
from cme_portal.accounts.validators import mask_id_number

from . import compliance
from .models import CreditRecord, RecordStatus

SALT = "credits.record"
# How many years one record may span, and from how many rows it is rendered in a worker.
MAX_YEARS = 10
INLINE_ROWS = 200


def effective_rows(learner, first, last):
    """The learner's effective credits of years ``first``..``last``: effective rows no reversal cancels."""
    reversed_ = CreditRecord.objects.filter(reverses=OuterRef("pk"))
    return (
        CreditRecord.objects.filter(learner=learner, year__gte=first, year__lte=last, status=RecordStatus.EFFECTIVE)
        .exclude(Exists(reversed_))
        .order_by("year", "start_date", "pk")
    )


@dataclass
class YearTotal:
    year: int
    class_i: Decimal
    class_ii: Decimal
    counted: Decimal
    min_total: Decimal
    min_class_i: Decimal
    min_class_ii: Decimal
    compliant: bool | None  # None: no unit, so no rule to judge by


def year_totals(learner, profile, first, last):
    """Per year: class I and II held, what counts, the requirement and the verdict (credits/compliance.py)."""
    totals = []
    province = compliance.province_of(profile.unit) if profile and profile.unit else None
    for year in range(first, last + 1):
        if province is None:
            sums = {"I": Decimal("0"), "II": Decimal("0")}
            for row in effective_rows(learner, year, year).values("credit_class", "credits"):
                sums[row["credit_class"]] = sums.get(row["credit_class"], Decimal("0")) + row["credits"]
            zero = Decimal("0")
            totals.append(YearTotal(year, sums["I"], sums["II"], sums["I"] + sums["II"], zero, zero, zero, None))
            continue
        rule = compliance.rules_for(province, year)[profile.staff_category]
        progress = compliance.learner_progress(learner, year, rule)
        totals.append(
            YearTotal(
                year,
                progress.class_i,
                progress.class_ii,
                progress.counted,
                rule.min_total,
                rule.min_class_i,
                rule.min_class_ii,
                progress.compliant,
            )
        )
    return totals


def digest(rows):
    """A short fingerprint of the rows listed: any later correction or new credit changes it."""
    text = "|".join(f"{r.pk}:{r.year}:{r.credit_class}:{r.credits}:{r.revision}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sign(learner, first, last, issued, rows):
    return signing.dumps(
        {"u": learner.pk, "f": first, "t": last, "d": issued.isoformat(), "h": digest(rows)}, salt=SALT, compress=True
    )


def unsign(token):
    """The record's facts from a verification token, or None when it was not issued by the portal."""
    try:
        data = signing.loads(token, salt=SALT)
        return {
            "user_id": int(data["u"]),
            "first": int(data["f"]),
            "last": int(data["t"]),
            "issued": date.fromisoformat(data["d"]),
            "digest": data["h"],
        }
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def verify_url(token):
    return f"{settings.PORTAL_BASE_URL}{reverse('credits:record_verify', args=[token])}"


def check_years(first, last):
    """The span asked for, in order, or a DomainError."""
    from cme_portal.errors import DomainError

    if first is None or last is None:
        raise DomainError(_("请选择起止年度。"), code="years")
    if first > last:
        first, last = last, first
    if last - first + 1 > MAX_YEARS:
        raise DomainError(_("一次最多选择 %(n)s 个年度。") % {"n": MAX_YEARS}, code="years")
    return first, last


# --- the PDF ----------------------------------------------------------------------

WIDTH, HEIGHT = A4
MARGIN = 40
ROW_HEIGHT = 15
COLUMNS = [  # (title, width)
    (gettext_lazy("年度"), 30),
    (gettext_lazy("来源"), 50),
    (gettext_lazy("类别"), 26),
    (gettext_lazy("级别"), 70),
    (gettext_lazy("项目编号"), 88),
    (gettext_lazy("活动名称"), 126),
    (gettext_lazy("起止日期"), 80),
    (gettext_lazy("学分"), 30),
]
WRAPPED = {4, 5}  # the columns 项目编号 and 活动名称
WRAP_LINES = 3
WRAP_LEADING = 10


def _measure(text, size):
    return sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in fonts.runs(text))


def _fit(text, size, width):
    """``text`` cut with an ellipsis to fit ``width`` points."""
    text = str(text or "")
    if _measure(text, size) <= width:
        return text
    while text and _measure(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text, size, width, max_lines=WRAP_LINES):
    """``text`` in lines of at most ``width`` points, broken between characters (Chinese has no spaces to break
    at); the last of ``max_lines`` lines ends with an ellipsis when the text is longer still."""
    text, lines = str(text or ""), []
    while text and len(lines) < max_lines - 1 and _measure(text, size) > width:
        cut = len(text)
        while cut > 1 and _measure(text[:cut], size) > width:
            cut -= 1
        lines.append(text[:cut])
        text = text[cut:]
    if text or not lines:
        lines.append(_fit(text, size, width))
    return lines


def _dates(row):
    if not row.start_date:
        return ""
    start = row.start_date.strftime("%Y-%m-%d")
    if row.end_date and row.end_date != row.start_date:
        return f"{start}—{row.end_date.strftime('%m-%d')}"
    return start


def _cells(row):
    return [
        str(row.year),
        row.get_source_display(),
        row.get_credit_class_display(),
        row.get_level_display(),
        row.activity_number,
        row.activity_name,
        _dates(row),
        f"{row.credits.normalize():f}",
    ]


def _num(value):
    return f"{Decimal(value).normalize():f}"


class _Pages:
    """A portrait A4 canvas that turns the page when the next line does not fit."""

    def __init__(self, buffer, footer):
        self.canvas = pdfcanvas.Canvas(buffer, pagesize=A4, pageCompression=1)
        self.footer = footer
        self.page = 1
        self.y = HEIGHT - MARGIN

    def text(self, x, text, size=9, align="left"):
        fonts.draw_text(self.canvas, x, self.y, text, size, align=align)

    def need(self, height):
        if self.y - height < MARGIN + 20:
            self.finish_page()
            self.canvas.showPage()
            self.page += 1
            self.y = HEIGHT - MARGIN
            return True
        return False

    def finish_page(self):
        fonts.draw_text(self.canvas, WIDTH / 2, MARGIN - 10, f"{self.footer} · {self.page}", 8, align="centre")


def render(learner, first, last, *, issued=None):
    """The record's PDF bytes and the rows and totals it lists."""
    from certificates.render import draw_qr

    issued = issued or date.today()
    profile = profile_of(learner)
    rows = list(effective_rows(learner, first, last))
    totals = year_totals(learner, profile, first, last)
    token = sign(learner, first, last, issued, rows)
    buffer = io.BytesIO()
    title = _("继续医学教育学分登记表")
    pages = _Pages(buffer, title)
    canvas = pages.canvas
    canvas.setTitle(title)
    canvas.setAuthor(settings.PORTAL_BASE_URL)

    pages.y = HEIGHT - MARGIN - 14
    pages.text(WIDTH / 2, title, 18, align="centre")
    pages.y -= 22
    pages.text(WIDTH / 2, _("%(first)s—%(last)s 年度") % {"first": first, "last": last}, 11, align="centre")
    qr_size = 78
    draw_qr(canvas, verify_url(token), WIDTH - MARGIN - qr_size, HEIGHT - MARGIN - qr_size - 30, qr_size)
    fonts.draw_text(canvas, WIDTH - MARGIN - qr_size / 2, HEIGHT - MARGIN - qr_size - 40, _("扫码验证"), 8, align="centre")
    unit = (profile.unit.name if profile and profile.unit else profile.unit_name if profile else "") or "—"
    facts = [
        (_("姓名"), learner.name),
        (_("证件号码"), mask_id_number(learner.id_number) or "—"),
        (_("工作单位"), unit),
        (_("职称"), (profile.get_title_display() if profile else "") or "—"),
        (_("打印日期"), issued.strftime("%Y-%m-%d")),
    ]
    pages.y -= 26
    for label, value in facts:
        pages.text(MARGIN, f"{label}：{_fit(value, 10, WIDTH - 2 * MARGIN - qr_size - 70)}", 10)
        pages.y -= 15

    # Totals per year and class against the requirement.
    pages.y -= 10
    pages.text(MARGIN, _("年度学分汇总"), 12)
    pages.y -= 16
    head = [_("年度"), _("I 类"), _("II 类"), _("计入"), _("要求（总 / I 类 / II 类）"), _("达标")]
    widths = [50, 60, 60, 60, 180, 60]

    def line(cells, size=9):
        x = MARGIN
        for cell, width in zip(cells, widths, strict=True):
            pages.text(x, _fit(cell, size, width - 4), size)
            x += width
        pages.y -= ROW_HEIGHT

    line(head)
    canvas.line(MARGIN, pages.y + ROW_HEIGHT - 4, MARGIN + sum(widths), pages.y + ROW_HEIGHT - 4)
    for total in totals:
        requirement = (
            f"{_num(total.min_total)} / {_num(total.min_class_i)} / {_num(total.min_class_ii)}"
            if total.compliant is not None
            else "—"
        )
        verdict = "—" if total.compliant is None else (_("达标") if total.compliant else _("未达标"))
        line([str(total.year), _num(total.class_i), _num(total.class_ii), _num(total.counted), requirement, verdict])
    all_i = sum((t.class_i for t in totals), Decimal("0"))
    all_ii = sum((t.class_ii for t in totals), Decimal("0"))
    line([_("合计"), _num(all_i), _num(all_ii), _num(sum((t.counted for t in totals), Decimal("0"))), "", ""])

    # Every effective credit.
    pages.y -= 12
    pages.need(3 * ROW_HEIGHT)
    pages.text(MARGIN, _("学分明细（共 %(n)s 条）") % {"n": len(rows)}, 12)
    pages.y -= 16

    def header():
        x = MARGIN
        for name, width in COLUMNS:
            pages.text(x, str(name), 9)
            x += width
        canvas.line(MARGIN, pages.y - 4, MARGIN + sum(w for _n, w in COLUMNS), pages.y - 4)
        pages.y -= ROW_HEIGHT

    header()
    if not rows:
        pages.text(MARGIN, _("所选年度没有学分记录。"), 9)
        pages.y -= ROW_HEIGHT
    for row in rows:
        # The activity's name and number wrap (a record for a promotion shows them whole); the rest fit one line.
        cells = [
            _wrap(cell, 8, width - 4) if column in WRAPPED else [_fit(cell, 8, width - 4)]
            for column, (cell, (_name, width)) in enumerate(zip(_cells(row), COLUMNS, strict=True))
        ]
        height = ROW_HEIGHT + (max(len(lines) for lines in cells) - 1) * WRAP_LEADING
        if pages.need(height):
            header()
        x, top = MARGIN, pages.y
        for lines, (_name, width) in zip(cells, COLUMNS, strict=True):
            for number, text in enumerate(lines):
                pages.y = top - number * WRAP_LEADING
                pages.text(x, text, 8)
            x += width
        pages.y = top - height
    pages.y -= 10
    pages.need(2 * ROW_HEIGHT)
    pages.text(MARGIN, _("本表由继续医学教育学分管理平台生成；扫描二维码可核验表中内容是否与平台记录一致。"), 8)
    pages.finish_page()
    canvas.save()
    return buffer.getvalue(), rows, totals


# --- large records: rendered by a worker ----------------------------------------------

JOB_SALT = "credits.record.job"


def job_token(learner, first, last):
    import uuid

    return signing.dumps({"u": learner.pk, "f": first, "t": last, "k": uuid.uuid4().hex}, salt=JOB_SALT)


def job_of(token, user):
    """The job's facts when ``token`` is one of ``user``'s own record jobs; else None (the view answers 404)."""
    try:
        data = signing.loads(token, salt=JOB_SALT)
        job = {"user_id": int(data["u"]), "first": int(data["f"]), "last": int(data["t"]), "key": str(data["k"])}
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if job["user_id"] != user.pk or not job["key"].isalnum():
        return None
    return job


def job_path(key):
    return f"credit-records/{key}.pdf"
