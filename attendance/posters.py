"""QR codes for the door: a printable PDF poster and an SVG for the projector page.

The codes carry PORTAL_BASE_URL, so a phone on the hospital's network opens
the portal's own address.
"""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from cme_portal.fonts import cjk_font_name


def door_url(session, direction, token):
    path = reverse("attendance:door", args=[session.pk, direction, token])
    return f"{settings.PORTAL_BASE_URL}{path}"


def qr_matrix(data):
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_svg(data):
    """An inline SVG of ``data`` (a path, scales to any screen)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2, box_size=10)
    return image.to_string(encoding="unicode")


def draw_qr(pdf, data, x, y, size):
    """Draw the QR code as vector squares: crisp at any print size."""
    matrix = qr_matrix(data)
    cell = size / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                pdf.rect(x + col * cell, y + size - (row + 1) * cell, cell, cell, stroke=0, fill=1)


def poster_pdf(session, direction, token, valid_text):
    """One A4 page: project, direction in large type, the QR code, when it is valid."""
    from django.utils.translation import gettext as _

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    font = cjk_font_name()
    label = _("签到") if direction == "in" else _("撤离")
    pdf.setTitle(f"{session.project.name} {label}")
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, height - 90, session.project.name[:40])
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 115, f"{session.project.number} · {session.venue[:40]}")
    pdf.setFont(font, 48)
    pdf.drawCentredString(width / 2, height - 190, label)
    size = 330
    draw_qr(pdf, door_url(session, direction, token), (width - size) / 2, height - 230 - size, size)
    pdf.setFont(font, 13)
    pdf.drawCentredString(width / 2, height - 600, valid_text)
    pdf.drawCentredString(width / 2, height - 625, _("请用手机扫码；签到、撤离须各扫一次，撤离时填写调查问卷。"))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
