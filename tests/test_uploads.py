"""Materials are judged by content and size, with a message that says what to do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import Role

from .factories import pdf_bytes, session_for, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    return organiser, session_for(organiser, materials=False)


def upload(client, organiser, session, file, kind="notice"):
    client.force_login(organiser)
    return client.post(reverse("projects:material_upload", args=[session.pk]), {"kind": kind, "file": file}, follow=True)


def test_a_file_over_50_mb_is_refused(client, draft):
    organiser, session = draft
    big = SimpleUploadedFile("notice.pdf", b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024 + 512 * 1024) + b"\n%%EOF", "application/pdf")
    page = upload(client, organiser, session, big).content.decode()
    assert "超过 50 MB 的上限" in page and "50.5 MB" in page
    assert not session.materials.exists()


def test_a_request_over_the_cap_is_refused_before_it_is_read(client, draft):
    organiser, session = draft
    big = SimpleUploadedFile("notice.pdf", b"%PDF-1.7\n" + b"0" * (52 * 1024 * 1024) + b"\n%%EOF", "application/pdf")
    response = upload(client, organiser, session, big)
    assert response.status_code == 413 and "不能超过 51 MB" in response.content.decode()
    assert not session.materials.exists()


def test_a_renamed_executable_is_refused(client, draft):
    organiser, session = draft
    exe = SimpleUploadedFile("notice.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 4096, "application/pdf")
    page = upload(client, organiser, session, exe).content.decode()
    assert "不是 PDF、JPEG 或 PNG" in page and "notice.pdf" in page
    assert not session.materials.exists()


def test_a_fake_image_with_a_png_header_is_refused(client, draft):
    organiser, session = draft
    fake = SimpleUploadedFile("schedule.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "image/png")
    page = upload(client, organiser, session, fake, "schedule").content.decode()
    assert "图片“schedule.png”无法读取" in page  # a PNG signature on garbage: named, and said to be unreadable


def test_real_pdf_and_png_are_accepted_and_replace_earlier_ones(client, draft):
    import io

    from PIL import Image

    organiser, session = draft
    upload(client, organiser, session, SimpleUploadedFile("v1.pdf", pdf_bytes("v1"), "application/pdf"))
    upload(client, organiser, session, SimpleUploadedFile("v2.pdf", pdf_bytes("v2"), "application/pdf"))
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(buffer, "PNG")
    upload(client, organiser, session, SimpleUploadedFile("日程.png", buffer.getvalue(), "image/png"), "schedule")
    assert dict(session.materials.values_list("kind", "original_name")) == {"notice": "v2.pdf", "schedule": "日程.png"}
    assert session.materials.get(kind="schedule").content_type == "image/png"
