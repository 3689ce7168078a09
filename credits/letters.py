"""Letters the portal prints for a unit to stamp: seed 003's 关于提前审核学分的申请.

Drawn with reportlab and the portal's embedded CJK font (cme_portal.fonts), so the
letter prints the same everywhere; it leaves room for the unit's seal.
"""

import io

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from cme_portal.accounts.models import OrgKind
from cme_portal.fonts import draw_text, runs

COLUMNS = ((gettext_lazy("单位"), 64), (gettext_lazy("姓名"), 24), (gettext_lazy("身份证号"), 46), (gettext_lazy("手机号码"), 36))
ROW = 9 * mm
ROWS_FIRST_PAGE = 18
ROWS_PER_PAGE = 26


def _width(text, size):
    return sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in runs(text))


def _fit(text, width_mm, size):
    """``text``, cut with an ellipsis if it does not fit a cell of ``width_mm`` (less the padding)."""
    room = width_mm * mm - 4 * mm
    if _width(text, size) <= room:
        return text
    while text and _width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def early_review_letter(early):
    """The PDF bytes of the letter for ``early`` (an EarlyReviewRequest): addressee, count, table, date, seal."""
    with translation.override(settings.LANGUAGE_CODE):
        return _draw(early)


def _draw(early):
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    left = 20 * mm
    people = list(early.candidates.select_related("profile__unit").order_by("name"))
    province = early.unit.ancestor_of_kind(OrgKind.PROVINCE)
    addressee = (
        _("%(province)s继续医学教育委员会办公室：") % {"province": province.name} if province else _("继续医学教育委员会办公室：")
    )

    y = height - 30 * mm
    draw_text(page, width / 2, y, _("关于提前审核学分的申请"), 18, align="centre")
    y -= 16 * mm
    draw_text(page, left, y, addressee, 12)
    y -= 10 * mm
    body = _("因晋升%(title)s职称需要，我单位共 %(count)s 人特申请提前进行学分审核，学分已提前录入系统，相关人员信息如下：") % {
        "title": early.title,
        "count": len(people),
    }
    for line in _wrap("　　" + body, 40):
        draw_text(page, left, y, line, 12)
        y -= 7 * mm
    y -= 3 * mm

    rows = [(early.unit.name, p.name, p.id_number, p.mobile or "") for p in people]
    first, rest = rows[:ROWS_FIRST_PAGE], rows[ROWS_FIRST_PAGE:]
    y = _table(page, left, y, first)
    while rest:
        page.showPage()
        chunk, rest = rest[:ROWS_PER_PAGE], rest[ROWS_PER_PAGE:]
        y = _table(page, left, height - 25 * mm, chunk)
    if y < 70 * mm:
        page.showPage()
        y = height - 30 * mm

    y -= 12 * mm
    draw_text(page, left + 8 * mm, y, _("此致"), 12)
    y -= 8 * mm
    draw_text(page, left, y, _("敬礼！"), 12)
    y -= 20 * mm
    right = width - 20 * mm
    signed = _("申请人：%(unit)s（单位盖章）") % {"unit": early.unit.name}
    draw_text(page, right - _width(signed, 12), y, signed, 12)
    y -= 9 * mm
    today = timezone.localdate()
    dated = _("%(y)s 年 %(m)s 月 %(d)s 日") % {"y": today.year, "m": today.month, "d": today.day}
    draw_text(page, right - _width(dated, 12), y, dated, 12)
    # Room for the seal: a faint circle over the signature, where the stamp goes.
    page.setStrokeGray(0.85)
    page.circle(right - 35 * mm, y + 8 * mm, 20 * mm)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _wrap(text, per_line):
    return [text[i : i + per_line] for i in range(0, len(text), per_line)] or [""]


def _table(page, left, top, rows):
    """Draw the header and ``rows``; return the y below the table."""
    widths = [w * mm for _label, w in COLUMNS]
    y = top
    for row in [tuple(str(label) for label, _w in COLUMNS)] + rows:
        x = left
        for (text, width_mm), cell_width in zip(zip(row, (w for _l, w in COLUMNS)), widths):
            page.rect(x, y - ROW, cell_width, ROW)
            draw_text(page, x + 2 * mm, y - ROW + 3 * mm, _fit(text, width_mm, 11), 11)
            x += cell_width
        y -= ROW
    return y
