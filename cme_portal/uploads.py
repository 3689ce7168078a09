"""Uploaded evidence and materials: judged by content, not by name (DESIGN.md §5)."""

import hashlib

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .errors import DomainError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

_SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]


def check_upload(upload, *, max_bytes=MAX_UPLOAD_BYTES):
    """Return (content_type, sha256) of a PDF, JPEG or PNG upload.

    Raises DomainError naming the file when it is larger than ``max_bytes`` or
    its content is not one of those formats (a renamed program, say).
    """
    name = getattr(upload, "name", "") or _("文件")
    if upload.size > max_bytes:
        raise DomainError(
            _("文件“%(name)s”大小为 %(size).1f MB，超过 %(limit)d MB 的上限。请压缩或拆分后再上传。")
            % {"name": name, "size": upload.size / 1024 / 1024, "limit": max_bytes // 1024 // 1024},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    content_type = next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)
    refusal = DomainError(
        _("文件“%(name)s”的内容不是 PDF、JPEG 或 PNG（可能是改了扩展名的其他文件）。请上传扫描件或照片。") % {"name": name},
        code="bad_type",
    )
    if content_type is None:
        raise refusal
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    if content_type.startswith("image/"):
        upload.seek(0)
        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise refusal from None
    else:
        upload.seek(max(0, upload.size - 2048))
        if b"%%EOF" not in upload.read():
            raise DomainError(
                _("文件“%(name)s”不是完整的 PDF（可能上传中断或文件已损坏），请重新导出后上传。") % {"name": name},
                code="bad_pdf",
            )
    upload.seek(0)
    return content_type, digest.hexdigest()
