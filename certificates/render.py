"""One landscape A4 certificate page with reportlab (W7).

Speed matters (DESIGN.md §7: 200 PDFs a second per core, 150 signed with
the seal): fonts are registered once per process, the frame's vector drawing
is recorded once and replayed into every page, the QR code is built with a
fixed mask and drawn as one vector path of merged runs, an image (background,
seal, signature) is decoded and compressed once per process and its PDF
object reused by every page, and the signature is written in the same pass
(signing.py).

Where each field goes is the province's certificate template (a ``Design``,
built from a ``CertificateTemplate`` version); ``DEFAULT_LAYOUT`` is the page
as it was before templates existed. The template editor's preview calls this
same ``render``.
"""

import copy
import io
from dataclasses import dataclass, field
from functools import cache, lru_cache

import qrcode
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen import canvas as pdfcanvas

from cme_portal import fonts

from . import signing

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


# Every field of the page: text fields are (x, y, font size) with y the baseline; "line" fields print their label at x and
# the value 100 points to its right; centred fields are centred on x; images (QR code, seal, signature) have their lower
# left corner at (x, y) and are ``size`` points wide.
FIELD_KINDS = {
    "title": "centre",
    "number": "text",
    "name": "line",
    "unit": "line",
    "project": "line",
    "project_number": "line",
    "when": "line",
    "credits": "line",
    "issuer": "centre",
    "issued_on": "centre",
    "qr": "image",
    "seal": "image",
    "signature": "image",
}

DEFAULT_LAYOUT = {
    "title": {"x": WIDTH / 2, "y": HEIGHT - 110, "size": 32},
    "number": {"x": WIDTH - 80 - 240, "y": HEIGHT - 150, "size": 11},
    "name": {"x": 130, "y": HEIGHT - 200, "size": 15},
    "unit": {"x": 130, "y": HEIGHT - 232, "size": 15},
    "project": {"x": 130, "y": HEIGHT - 264, "size": 15},
    "project_number": {"x": 130, "y": HEIGHT - 296, "size": 15},
    "when": {"x": 130, "y": HEIGHT - 328, "size": 15},
    "credits": {"x": 130, "y": HEIGHT - 372, "size": 20},
    "issuer": {"x": WIDTH - 300, "y": 120, "size": 14},
    "issued_on": {"x": WIDTH - 300, "y": 96, "size": 12},
    "qr": {"x": 80, "y": 70, "size": 96},
    "seal": {"x": WIDTH - 365, "y": 52, "size": 130},
    "signature": {"x": WIDTH - 560, "y": 70, "size": 110},
}
LABEL_GAP = 100


@dataclass(frozen=True)
class Design:
    """What a template version decides about the page: where each field goes, the frame, and the images (bytes)."""

    layout: dict = field(default_factory=lambda: DEFAULT_LAYOUT)
    frame: bool = True
    background: bytes | None = None
    seal: bytes | None = None
    signature: bytes | None = None

    def at(self, name):
        return {**DEFAULT_LAYOUT[name], **(self.layout.get(name) or {})}


DEFAULT_DESIGN = Design()


@lru_cache(maxsize=32)
def _image_objects(data):
    """An image's PDF objects (and its soft mask for a PNG with transparency), built once per process."""
    reader = ImageReader(io.BytesIO(data))
    name = pdfdoc._digester(data)
    image = pdfdoc.PDFImageXObject(name, reader, mask="auto")
    image.name = name
    smask = getattr(image, "_smask", None)
    if smask is not None:
        del image._smask
    return image, smask, reader.getSize()


def draw_image(page, data, x, y, width, height=None):
    """Draw ``data`` (PNG or JPEG bytes) with its lower left corner at (x, y); ``height`` by the aspect ratio if None.

    Each page gets shallow copies of the cached objects (reportlab marks an object with the name it has in one
    document), sharing the compressed stream.
    """
    cached, cached_smask, (pixels_wide, pixels_high) = _image_objects(data)
    doc = page._doc
    reg_name = doc.getXObjectName(cached.name)
    if reg_name not in doc.idToObject:
        image = copy.copy(cached)
        if cached_smask is not None:
            smask = copy.copy(cached_smask)
            mask_name = doc.getXObjectName(smask.name)
            doc.Reference(smask, mask_name)
            image.smask = pdfdoc.PDFObjectReference(mask_name)
        doc.Reference(image, reg_name)
        doc.addForm(cached.name, image)
    if height is None:
        height = width * pixels_high / pixels_wide
    page._currentPageHasImages = 1
    page.saveState()
    page.translate(x, y)
    page.scale(width, height)
    page._code.append(f"/{reg_name} Do")
    page.restoreState()
    page._formsinuse.append(cached.name)


def _line(page, at, label, value):
    fonts.draw_text(page, at["x"], at["y"], label, at["size"])
    fonts.draw_text(page, at["x"] + LABEL_GAP, at["y"], value or " ", at["size"])


def verify_code(fields):
    """The verification code at the end of the verify address (written into the PDF's keywords)."""
    return fields.get("verify_url", "").rstrip("/").rsplit("/", 1)[-1]


def render(fields, design=DEFAULT_DESIGN, *, with_qr=True, signer=None):
    """The PDF bytes of one certificate. ``fields`` is the certificate's snapshot, ``design`` its template version;
    with a ``signer`` (signing.signer()) the PDF carries the province's signature."""
    buffer = io.BytesIO()
    page = pdfcanvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT), pageCompression=1)
    page.setTitle(fields.get("title", ""))
    page.setKeywords(f"cme-verify:{verify_code(fields)}")
    if design.background:
        draw_image(page, design.background, 0, 0, WIDTH, HEIGHT)
    if design.frame:
        draw_frame(page)
    at = design.at
    labels = fields["labels"]
    title = at("title")
    fonts.draw_text(page, title["x"], title["y"], fields["title"], title["size"], align="centre")
    number = at("number")
    fonts.draw_text(page, number["x"], number["y"], f"{fields['number_label']}{fields['number']}", number["size"])
    _line(
        page,
        at("name"),
        labels["name"],
        f"{fields['name']}    {labels['sex']}{fields['sex']}    {labels['age']}{fields['age']}",
    )
    _line(page, at("unit"), labels["unit"], fields["unit"])
    _line(page, at("project"), labels["project"], fields["project_name"])
    _line(page, at("project_number"), labels["project_number"], fields["project_number"])
    _line(page, at("when"), labels["when"], f"{fields['dates']}    {fields['venue']}")
    _line(page, at("credits"), labels["credits"], fields["credits_text"])
    if design.signature:
        place = at("signature")
        draw_image(page, design.signature, place["x"], place["y"], place["size"])
    issuer, issued_on = at("issuer"), at("issued_on")
    fonts.draw_text(page, issuer["x"], issuer["y"], fields["issuer"], issuer["size"], align="centre")
    fonts.draw_text(page, issued_on["x"], issued_on["y"], fields["issued_on"], issued_on["size"], align="centre")
    if design.seal:  # over the issuing body, as a red seal is stamped on paper
        place = at("seal")
        draw_image(page, design.seal, place["x"], place["y"], place["size"])
    if with_qr:
        qr = at("qr")
        draw_qr(page, fields["verify_url"], qr["x"], qr["y"], qr["size"])
        fonts.draw_text(page, qr["x"] + qr["size"] / 2, qr["y"] - 14, fields["scan_label"], 9, align="centre")
    if signer is not None:
        signing.sign_field(page, signer.placeholder_bytes)
    page.showPage()
    page.save()
    pdf = buffer.getvalue()
    return signing.seal_pdf(pdf, signer) if signer is not None else pdf
