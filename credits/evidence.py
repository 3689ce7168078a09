"""Evidence: several PDF/JPEG/PNG files merged by the portal into one PDF (seed 004)."""

import io
import logging

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PdfWriter

from cme_portal.errors import DomainError
from cme_portal.uploads import check_upload, read_pdf

log = logging.getLogger(__name__)


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
            writer.append(read_pdf(source, upload.name))
        except DomainError as error:
            error.field = "evidence"
            raise
        except Exception as error:  # whatever Pillow or pypdf raise, the person gets the file's name, never a 500
            log.warning("evidence_refused", extra={"file": upload.name, "reason": error.__class__.__name__})
            raise DomainError(
                _("文件“%(name)s”无法读取（可能已加密或损坏），请重新导出后上传。") % {"name": upload.name},
                code="evidence_unreadable",
                field="evidence",
            ) from None
    buffer = io.BytesIO()
    try:
        writer.write(buffer)
    except Exception as error:
        log.warning("evidence_refused", extra={"reason": error.__class__.__name__})
        raise DomainError(
            _("证明材料无法合并成一个 PDF（其中某个文件结构异常），请逐个重新导出后上传。"),
            code="evidence_unreadable",
            field="evidence",
        ) from None
    return ContentFile(buffer.getvalue(), name="evidence.pdf"), len(writer.pages)
