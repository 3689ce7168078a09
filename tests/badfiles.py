"""Hostile and broken files for the bad-input corpus, built in memory (no binary fixtures in git)."""

import io
import struct
import zlib

from .factories import pdf_bytes


def png_header(width, height, *, idat=b""):
    """A PNG whose header claims ``width`` × ``height`` (nothing close to that is in the file)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat or zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_header(width, height):
    """A JPEG whose SOF0 header claims ``width`` × ``height``."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + sof + b"\xff\xd9"


def real_image(fmt="PNG", size=(40, 30)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def nested_pdf(depth=5000):
    """A small PDF whose page dictionary holds arrays nested ``depth`` deep."""
    nested = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep " + nested + b" >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def polyglot_pdf():
    """A PDF header, then a web page, then a real PDF's end: a browser runs it, a PDF reader opens it."""
    return b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n" + pdf_bytes("x")[9:]


def html_after_eof():
    return pdf_bytes("notice") + b"\n<script>fetch('/accounts/')</script>\n%%EOF\n"


def truncated_pdf():
    return pdf_bytes("notice")[:-400]


def garbage_pdf():
    return b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"


def encrypted_pdf():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("secret"))))
    writer.encrypt("owner-only")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_png():
    return real_image("PNG", (300, 300))[:120]


def zip_renamed():
    return b"PK\x03\x04" + b"\0" * 100
