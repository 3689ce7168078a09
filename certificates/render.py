"""One landscape A4 certificate page with reportlab (W7).

Speed matters (DESIGN.md §7: 200 PDFs a second per core): fonts are
registered once per process, the frame's vector drawing is recorded once and
replayed into every page, and the QR code is built with a fixed mask and
drawn as one vector path of merged runs.
"""

import io
from functools import cache

import qrcode
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas as pdfcanvas

from cme_portal import fonts

# Binary streams: ASCII85 only makes the file bigger and the render slower.
rl_config.useA85 = 0

WIDTH, HEIGHT = landscape(A4)
GOLD = (0.65, 0.5, 0.2)
INK = (0.12, 0.12, 0.12)


def _draw_frame(page):
    page.setStrokeColorRGB(*GOLD)
    page.setLineWidth(6)
    page.rect(22, 22, WIDTH - 44, HEIGHT - 44)
    page.setLineWidth(1.2)
    page.rect(34, 34, WIDTH - 68, HEIGHT - 68)
    for x, y in ((34, 34), (WIDTH - 34, 34), (34, HEIGHT - 34), (WIDTH - 34, HEIGHT - 34)):
        page.circle(x, y, 7, stroke=1, fill=0)
    page.setLineWidth(0.8)
    page.line(WIDTH / 2 - 150, HEIGHT - 128, WIDTH / 2 + 150, HEIGHT - 128)
    page.setStrokeColorRGB(*INK)
    page.setFillColorRGB(*INK)


@cache
def _frame_operators():
    """The frame's PDF operators, recorded once per process from a scratch canvas."""
    scratch = pdfcanvas.Canvas(io.BytesIO(), pagesize=(WIDTH, HEIGHT))
    start = len(scratch._code)
    _draw_frame(scratch)
    return tuple(scratch._code[start:])


def draw_frame(page):
    """Replay the recorded frame (reportlab keeps a page's operators in ``_code``)."""
    code = getattr(page, "_code", None)
    if isinstance(code, list):
        code.extend(_frame_operators())
    else:  # a reportlab without that list: draw it the slow way
        _draw_frame(page)


@cache
def _qr_version(length):
    """The smallest version for data of this length: verify URLs all have one length, so one search."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data("x" * length)
    code.make(fit=True)
    return code.version


def qr_runs(data):
    """The dark modules of ``data``'s QR code as horizontal runs: [(row, start, length)], and the size.

    A fixed version and mask: no search over eight masks (the costly part of building a code).
    """
    code = qrcode.QRCode(
        version=_qr_version(len(data.encode())), error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2
    )
    code.add_data(data)
    code.make(fit=False)
    matrix = code.get_matrix()
    result = []
    for row, line in enumerate(matrix):
        col = 0
        while col < len(line):
            if line[col]:
                start = col
                while col < len(line) and line[col]:
                    col += 1
                result.append((row, start, col - start))
            else:
                col += 1
    return result, len(matrix)


def draw_qr(page, data, x, y, size):
    runs, modules = qr_runs(data)
    cell = size / modules
    path = page.beginPath()
    for row, start, length in runs:
        path.rect(x + start * cell, y + size - (row + 1) * cell, length * cell, cell)
    page.drawPath(path, stroke=0, fill=1)


def _line(page, label, value, y, size=15):
    fonts.draw_text(page, 130, y, label, size)
    fonts.draw_text(page, 230, y, value or " ", size)


def render(fields, *, with_qr=True):
    """The PDF bytes of one certificate. ``fields`` is the certificate's snapshot."""
    buffer = io.BytesIO()
    page = pdfcanvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT), pageCompression=1)
    page.setTitle(fields.get("title", ""))
    draw_frame(page)
    fonts.draw_text(page, WIDTH / 2, HEIGHT - 110, fields["title"], 32, align="centre")
    fonts.draw_text(page, WIDTH - 80 - 240, HEIGHT - 150, f"{fields['number_label']}{fields['number']}", 11)
    _line(
        page,
        fields["labels"]["name"],
        f"{fields['name']}    {fields['labels']['sex']}{fields['sex']}    {fields['labels']['age']}{fields['age']}",
        HEIGHT - 200,
    )
    _line(page, fields["labels"]["unit"], fields["unit"], HEIGHT - 232)
    _line(page, fields["labels"]["project"], fields["project_name"], HEIGHT - 264)
    _line(page, fields["labels"]["project_number"], fields["project_number"], HEIGHT - 296)
    _line(page, fields["labels"]["when"], f"{fields['dates']}    {fields['venue']}", HEIGHT - 328)
    _line(page, fields["labels"]["credits"], fields["credits_text"], HEIGHT - 372, size=20)
    fonts.draw_text(page, WIDTH - 300, 120, fields["issuer"], 14, align="centre")
    fonts.draw_text(page, WIDTH - 300, 96, fields["issued_on"], 12, align="centre")
    if with_qr:
        draw_qr(page, fields["verify_url"], 80, 70, 96)
        fonts.draw_text(page, 128, 56, fields["scan_label"], 9, align="centre")
    page.showPage()
    page.save()
    return buffer.getvalue()
