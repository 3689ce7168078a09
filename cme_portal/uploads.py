"""Uploaded evidence and materials: judged by content, not by name (DESIGN.md §5).

Every file is refused with a message naming it, never with a 500:
- images: the header's width and height are read before anything is decoded, and a picture over
  ``MAX_IMAGE_PIXELS`` (a 50-megapixel phone photo fits with room to spare) is refused; Pillow's own
  decompression-bomb limit is set to the same figure, so its error can never be the first to fire;
- PDFs: parsed by pypdf (every page read, at most ``MAX_PDF_PAGES``); whatever pypdf cannot read
  (deeply nested arrays, broken cross-references, encryption) is refused; and a PDF must
  be a PDF throughout: markup a browser would run (HTML, script, SVG) anywhere in the bytes, before or
  after ``%%EOF``, refuses it (a PDF/HTML polyglot served as a meeting notice).
"""

import hashlib
import logging
import re
import warnings

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .errors import DomainError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# 64 megapixels (8,000 × 8,000): above every phone photo and A4 scan of a certificate, and small
# enough that converting one to a PDF page (3 bytes a pixel) stays within a worker's memory.
MAX_IMAGE_PIXELS = 64_000_000
MAX_IMAGE_SIDE = 20_000
# Deliberately the same: Pillow warns above this and raises above twice this; we refuse first, with a message.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
MAX_PDF_PAGES = 2000

_SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
# What a browser sniffing the bytes would treat as a page to run.
_MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|script[\s>/]|iframe[\s>/]|svg[\s>/]|object[\s>/]|embed[\s>/])|javascript:",
    re.I,
)
_CHUNK = 1024 * 1024


def _refuse(message, name, code):
    return DomainError(message % {"name": name}, code=code)


def _not_a_document(name):
    return DomainError(
        _("文件“%(name)s”的内容不是 PDF、JPEG 或 PNG（可能是改了扩展名的其他文件）。请上传扫描件或照片。") % {"name": name},
        code="bad_type",
    )


def _check_image(upload, name):
    upload.seek(0)
    unreadable = _refuse(_("图片“%(name)s”无法读取（文件可能已损坏），请重新拍照或导出后上传。"), name, "bad_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:  # reads the header only: nothing is decoded yet
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
                    raise DomainError(
                        _(
                            "图片“%(name)s”的尺寸为 %(width)d × %(height)d 像素，超过上限（约 6400 万像素）。请缩小或重新扫描后上传。"
                        )
                        % {"name": name, "width": width, "height": height},
                        code="image_too_large",
                    )
                image.verify()
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError(
            _("图片“%(name)s”的尺寸超过上限（约 6400 万像素）。请缩小或重新扫描后上传。") % {"name": name},
            code="image_too_large",
        ) from None
    except UnidentifiedImageError:  # a PNG/JPEG signature on something that is no picture
        raise _not_a_document(name) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise unreadable from None


def _scan_for_markup(upload, name):
    upload.seek(0)
    tail = b""
    for chunk in upload.chunks(_CHUNK):
        if _MARKUP.search(tail + chunk):
            raise _refuse(
                _("文件“%(name)s”不是纯粹的 PDF（其中夹带了网页或脚本内容）。请用打印为 PDF 或扫描的方式重新生成后上传。"),
                name,
                "pdf_polyglot",
            )
        tail = chunk[-64:]


# Arrays and dictionaries nested deeper than this are no document a scanner or an office program writes;
# pypdf reads them recursively, and a file nesting thousands deep exhausts Python's stack (a RecursionError
# whose unwinding can trip object finalisers): such files are refused before pypdf sees them.
MAX_PDF_NESTING = 64
_PDF_TOKEN = re.compile(rb"stream\r?\n|[\[\]()%]|<<|>>")


def _skip_literal_string(data, pos):
    """The position after the literal string whose ``(`` ended at ``pos`` (nested parentheses, escapes)."""
    depth, end = 1, len(data)
    while pos < end and depth:
        byte = data[pos]
        if byte == 0x5C:  # backslash: the next byte is escaped
            pos += 2
            continue
        depth += byte == 0x28
        depth -= byte == 0x29
        pos += 1
    return pos


def pdf_nesting_too_deep(data, limit=MAX_PDF_NESTING):
    """True when ``data`` nests arrays/dictionaries deeper than ``limit`` outside its streams and strings."""
    depth, pos = 0, 0
    while match := _PDF_TOKEN.search(data, pos):
        token, pos = match.group(), match.end()
        if token.startswith(b"stream"):
            end = data.find(b"endstream", pos)
            if end < 0:
                return False
            pos = end + len(b"endstream")
        elif token == b"%":
            line_end = data.find(b"\n", pos)
            pos = len(data) if line_end < 0 else line_end + 1
        elif token == b"(":
            pos = _skip_literal_string(data, pos)
        elif token in (b"[", b"<<"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b">>"):
            depth = max(0, depth - 1)
    return False


def read_pdf(source, name):
    """Open ``source`` with pypdf and read every page's object; return the PdfReader.

    Raises DomainError naming the file when pypdf cannot read it (nesting too deep, broken
    cross-references, encrypted, too many pages): a person's message, never a 500.
    """
    from pypdf import PdfReader

    unreadable = _refuse(_("文件“%(name)s”无法作为 PDF 读取（可能已加密、损坏或结构异常），请重新导出后上传。"), name, "bad_pdf")
    source.seek(0)
    if pdf_nesting_too_deep(source.read()):
        log.warning("pdf_refused", extra={"file": name, "reason": "nesting"})
        raise unreadable
    source.seek(0)
    try:
        reader = PdfReader(source, strict=False)
        if reader.is_encrypted:
            raise unreadable
        pages = len(reader.pages)
        if pages > MAX_PDF_PAGES:
            raise DomainError(
                _("文件“%(name)s”有 %(pages)d 页，超过 %(limit)d 页的上限，请拆分后上传。")
                % {"name": name, "pages": pages, "limit": MAX_PDF_PAGES},
                code="pdf_too_long",
            )
        for page in reader.pages:
            page.get("/Contents")
            page.mediabox  # noqa: B018 (reading it parses the page's boxes)
    except DomainError:
        raise
    except RecursionError:  # pypdf reads nested arrays recursively; a hostile file nests thousands deep
        log.warning("pdf_refused", extra={"file": name, "reason": "recursion"})
        raise unreadable from None
    except Exception as error:  # pypdf raises many kinds; none of them may reach a person as a 500
        log.warning("pdf_refused", extra={"file": name, "reason": error.__class__.__name__})
        raise unreadable from None
    return reader


def check_upload(upload, *, max_bytes=MAX_UPLOAD_BYTES):
    """Return (content_type, sha256) of a PDF, JPEG or PNG upload.

    Raises DomainError naming the file when it is larger than ``max_bytes``, its content is not one
    of those formats (a renamed program, say), an image is larger than ``MAX_IMAGE_PIXELS`` or
    unreadable, or a PDF is incomplete, unreadable by pypdf or carries web markup.
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
    if content_type is None:
        raise _not_a_document(name)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    if content_type.startswith("image/"):
        _check_image(upload, name)
    else:
        upload.seek(max(0, upload.size - 2048))
        if b"%%EOF" not in upload.read():
            raise DomainError(
                _("文件“%(name)s”不是完整的 PDF（可能上传中断或文件已损坏），请重新导出后上传。") % {"name": name},
                code="bad_pdf",
            )
        _scan_for_markup(upload, name)
        upload.seek(0)
        read_pdf(upload, name)
    upload.seek(0)
    return content_type, digest.hexdigest()
