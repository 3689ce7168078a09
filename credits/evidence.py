"""Evidence: several PDF/JPEG/PNG files merged by the portal into one PDF (seed 004)."""

import io

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from cme_portal.errors import DomainError
from cme_portal.uploads import check_upload


def _image_as_pdf(upload):
    with Image.open(upload) as image:
        image.load()
        page = image.convert("RGB")
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=150)
    buffer.seek(0)
    return buffer


def merge_evidence(uploads):
    """Check each upload by content and merge them, in order, into one PDF.

    Returns (ContentFile, page count). Raises DomainError naming the first file
    that is not a PDF, JPEG or PNG, is too large, or cannot be read.
    """
    if not uploads:
        raise DomainError(_("请上传证明材料（PDF、JPEG 或 PNG）。"), code="evidence_missing", field="evidence")
    writer = PdfWriter()
    for upload in uploads:
        content_type, _digest = check_upload(upload)
        try:
            source = _image_as_pdf(upload) if content_type.startswith("image/") else upload
            writer.append(PdfReader(source))
        except (PdfReadError, OSError, ValueError):
            raise DomainError(
                _("文件“%(name)s”无法读取（可能已加密或损坏），请重新导出后上传。") % {"name": upload.name},
                code="evidence_unreadable",
                field="evidence",
            ) from None
    buffer = io.BytesIO()
    writer.write(buffer)
    return ContentFile(buffer.getvalue(), name="evidence.pdf"), len(writer.pages)
