"""Issue 15: the province designs its certificate (versions, live preview by the renderer, re-issue), and the unit's
bulk ZIP is built anyway without the incomplete certificates when the admin asks."""

import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from certificates import demo_images, designs, render
from certificates.forms import TemplateForm
from certificates.models import BulkDownload, Certificate, CertificateTemplate, ReissueJob
from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, Role
from cme_portal.accounts.services import update_profile
from cme_portal.errors import DomainError

from .factories import learner, staff
from .fixtures.certificates import file_bytes

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "certificates"


@pytest.fixture
def awarded(signed_awards):
    return signed_awards


def form_data(template=None, **changes):
    """The editor's form as the browser posts it: every field, from ``template`` (default: the portal's default)."""
    data = {key: value for key, value in TemplateForm.initial_for(template).items() if value not in (None, False)}
    data.update(changes)
    return data


def seal_upload(**kwargs):
    return SimpleUploadedFile("seal.png", demo_images.seal_png(**kwargs), "image/png")


def test_the_default_template_is_version_one_and_new_certificates_record_it(awarded, tree):
    default = CertificateTemplate.objects.get(province__isnull=True)
    assert default.version == 1 and not default.seal
    assert default.layout["qr"] == {"x": 80, "y": 70, "size": 96}  # today's page, written into the migration
    for name, place in render.DEFAULT_LAYOUT.items():
        assert default.layout[name] == pytest.approx(place)
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    assert certificate.template == default


def test_a_template_edit_is_previewed_saved_and_leaves_issued_certificates_alone(
    client, awarded, tree, django_capture_on_commit_callbacks
):
    person = learner(unit=tree["unit_a"], name="王秀英")
    issued = awarded(person)[0]
    before = file_bytes(issued)
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(admin)
    assert client.get(reverse("certificates:template")).status_code == 200

    edit = form_data(title="继续医学教育学分证明", issuing_body="测试省卫生健康委员会科教处", seal_y="60")
    preview = client.post(reverse("certificates:template_preview"), {**edit, "seal": seal_upload()})
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    picture = Image.open(io.BytesIO(preview.content)).convert("RGB")
    # The seal is drawn where the form put it: red pixels around its centre (x 542, y 60 + 65 points up).
    scale = picture.width / render.WIDTH
    cx, cy = int((render.WIDTH - 365 + 65) * scale), int((render.HEIGHT - 60 - 65) * scale)
    reds = sum(
        1
        for x in range(cx - 30, cx + 30)
        for y in range(cy - 30, cy + 30)
        if (lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90)(picture.getpixel((x, y)))
    )
    assert reds > 100
    assert not CertificateTemplate.objects.filter(province=tree["province"]).exists()  # a preview saves nothing

    saved = client.post(reverse("certificates:template"), {**edit, "seal": seal_upload()})
    assert saved.status_code == 302
    version = CertificateTemplate.objects.get(province=tree["province"])
    assert version.version == 1 and version.seal and version.title == "继续医学教育学分证明"
    assert version.layout["seal"]["y"] == 60 and version.created_by == admin

    # The issued certificate is untouched: same bytes, same version; so is a re-render after a profile change.
    issued.refresh_from_db()
    assert file_bytes(issued) == before and issued.template.province is None
    with django_capture_on_commit_callbacks(execute=True):
        update_profile(person, sex="F")
    issued.refresh_from_db()
    assert (
        issued.template.province is None
        and "继续医学教育学分证书" in PdfReader(io.BytesIO(file_bytes(issued))).pages[0].extract_text()
    )
    # A new certificate is drawn with the new version.
    fresh = awarded(learner(unit=tree["unit_a"]))[0]
    assert fresh.template == version and fresh.snapshot["title"] == "继续医学教育学分证明"
    assert fresh.snapshot["issuer"] == "测试省卫生健康委员会科教处"

    # Saving again without a new seal keeps the seal (a new version, the same stored file).
    client.post(reverse("certificates:template"), {**form_data(version), "seal_size": "110"})
    second = CertificateTemplate.objects.get(province=tree["province"], version=2)
    assert second.seal.name == version.seal.name and second.layout["seal"]["size"] == 110
    client.post(reverse("certificates:template"), {**form_data(second), "clear_seal": "on"})
    assert not CertificateTemplate.objects.get(province=tree["province"], version=3).seal


def test_a_reissue_redraws_with_the_current_version_with_progress(client, awarded, tree, django_capture_on_commit_callbacks):
    people = [learner(unit=tree["unit_a"]) for _ in range(3)]
    certificates = awarded(*people)
    revoked = certificates[2]
    Certificate.objects.filter(pk=revoked.pk).update(status="revoked", revoked_at="2026-06-05T00:00:00Z", revoke_reason="x")
    before = {c.pk: hashlib.sha256(file_bytes(c)).hexdigest() for c in certificates}
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(admin)
    client.post(reverse("certificates:template"), {**form_data(title="新版证书"), "seal": seal_upload()})
    version = CertificateTemplate.objects.get(province=tree["province"])
    assert "2" in client.get(reverse("certificates:template")).content.decode()  # two stale certificates

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:template_reissue"))
    job = ReissueJob.objects.get()
    assert response["Location"] == reverse("certificates:reissue_status", args=[job.pk])
    assert job.state == "done" and job.total == job.done == 2 and job.failed == 0 and job.template == version
    page = client.get(response["Location"])
    assert page.status_code == 200 and "2 / 2" in page.content.decode()
    for certificate in certificates[:2]:
        certificate.refresh_from_db()
        data = file_bytes(certificate)
        assert certificate.template == version and hashlib.sha256(data).hexdigest() != before[certificate.pk]
        assert certificate.sha256 == hashlib.sha256(data).hexdigest() and certificate.render_count == 2
        assert "新版证书" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    revoked.refresh_from_db()
    assert revoked.template.province is None and revoked.render_count == 1  # a revoked one is never redrawn

    # Nothing left to redraw: a second re-issue touches nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("certificates:template_reissue"))
    assert ReissueJob.objects.latest("pk").total == 0
    assert Certificate.objects.get(pk=certificates[0].pk).render_count == 2


def test_one_reissue_at_a_time(tree):
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    with pytest.raises(DomainError, match="请先保存本省的证书模板"):
        designs.request_reissue(admin, tree["province"])
    designs.save_template(admin, tree["province"], title="", issuing_body="", frame=True, layout={}, uploads={})
    designs.request_reissue(admin, tree["province"])
    with pytest.raises(DomainError, match="已有一个重新颁发任务"):
        designs.request_reissue(admin, tree["province"])


@pytest.mark.parametrize(
    "upload, message",
    [
        (lambda: SimpleUploadedFile("seal.png", b"not an image", "image/png"), "无法读取该图片"),
        (lambda: SimpleUploadedFile("seal.jpg", _jpeg(), "image/jpeg"), "图片格式须为 PNG"),
        (lambda: SimpleUploadedFile("seal.png", _opaque_png(), "image/png"), "透明背景"),
    ],
)
def test_a_bad_seal_is_refused_with_a_reason_and_nothing_saved(client, tree, upload, message):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    preview = client.post(reverse("certificates:template_preview"), {**form_data(), "seal": upload()})
    assert preview.status_code == 400 and message in preview.content.decode()
    page = client.post(reverse("certificates:template"), {**form_data(), "seal": upload()})
    assert page.status_code == 200 and message in page.content.decode()
    assert not CertificateTemplate.objects.filter(province=tree["province"]).exists()


def test_a_background_image_fills_the_page(client, tree):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    out = io.BytesIO()
    Image.new("RGB", (842, 595), (250, 235, 200)).save(out, "JPEG")
    background = SimpleUploadedFile("paper.jpg", out.getvalue(), "image/jpeg")
    preview = client.post(reverse("certificates:template_preview"), {**form_data(), "frame": "", "background": background})
    assert preview.status_code == 200
    picture = Image.open(io.BytesIO(preview.content)).convert("RGB")
    corner = picture.getpixel((3, 3))
    assert all(abs(a - b) < 12 for a, b in zip(corner, (250, 235, 200)))
    background.seek(0)
    client.post(reverse("certificates:template"), {**form_data(), "frame": "", "background": background})
    saved = CertificateTemplate.objects.get(province=tree["province"])
    assert saved.background and not saved.frame


def test_without_pdftoppm_the_preview_is_the_pdf(client, tree, monkeypatch):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    monkeypatch.setattr("certificates.views.subprocess.run", _broken_pdftoppm)
    preview = client.post(reverse("certificates:template_preview"), form_data(title="预览标题"))
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    assert "预览标题" in PdfReader(io.BytesIO(preview.content)).pages[0].extract_text()


def _broken_pdftoppm(*args, **kwargs):
    raise subprocess.TimeoutExpired("pdftoppm", 20)


def test_positions_off_the_page_are_refused(client, tree):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    page = client.post(reverse("certificates:template"), form_data(title_x="9000", qr_size=""))
    assert page.status_code == 200 and page.context["form"].errors.keys() == {"title_x", "qr_size"}
    assert not CertificateTemplate.objects.filter(province=tree["province"]).exists()


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (200, 0, 0)).save(out, "JPEG")
    return out.getvalue()


def _opaque_png():
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (200, 0, 0)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("who", ["learner", "unit_admin", "city_admin"])
def test_only_the_province_admin_edits_the_template(client, tree, who):
    user = {
        "learner": lambda: learner(unit=tree["unit_a"]),
        "unit_admin": lambda: staff(Role.UNIT_ADMIN, tree["unit_a"]),
        "city_admin": lambda: staff(Role.CITY_ADMIN, tree["city_a"]),
    }[who]()
    client.force_login(user)
    assert client.get(reverse("certificates:template")).status_code == 404
    assert client.post(reverse("certificates:template_preview"), form_data()).status_code == 404
    assert client.post(reverse("certificates:template_reissue")).status_code == 404


def test_another_provinces_admin_sees_neither_template_nor_reissue(client, tree):
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    designs.save_template(admin, tree["province"], title="测试省模板", issuing_body="", frame=True, layout={}, uploads={})
    job = designs.request_reissue(admin, tree["province"])
    elsewhere = Organisation.objects.create(name="另一省", kind=OrgKind.PROVINCE)
    client.force_login(staff(Role.PROVINCE_ADMIN, elsewhere))
    assert client.get(reverse("certificates:reissue_status", args=[job.pk])).status_code == 404
    page = client.get(reverse("certificates:template"))
    assert page.status_code == 200 and "测试省模板" not in page.content.decode()
    client.post(reverse("certificates:template"), form_data(title="另一省模板"))
    assert CertificateTemplate.objects.get(province=elsewhere).version == 1
    assert designs.current_template(tree["province"]).title == "测试省模板"


def test_a_rendered_certificate_with_the_seal_as_an_image(client, awarded, tree):
    """Kept under test-artifacts/certificates/: look at it (the seal stamped over the issuing body)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils)")
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(admin)
    client.post(
        reverse("certificates:template"),
        {
            **form_data(issuing_body="测试省继续医学教育委员会"),
            "seal": seal_upload(text="测试省继续医学教育委员会"),
            "signature": SimpleUploadedFile("signature.png", demo_images.signature_png(), "image/png"),
        },
    )
    certificate = awarded(learner(unit=tree["unit_a"], name="王秀英"))[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "certificate-with-seal.pdf"
    pdf.write_bytes(file_bytes(certificate))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(ARTIFACTS / "certificate-with-seal")], check=True
    )
    picture = Image.open(ARTIFACTS / "certificate-with-seal.png").convert("RGB")
    scale = picture.width / render.WIDTH
    cx, cy = int((render.WIDTH - 300) * scale), int((render.HEIGHT - 117) * scale)
    reds = sum(
        1
        for x in range(cx - 70, cx + 70)
        for y in range(cy - 70, cy + 70)
        if (lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90)(picture.getpixel((x, y)))
    )
    assert reds > 500
    # The image XObjects are in the PDF: the seal (with its soft mask for transparency) and the signature.
    assert len(PdfReader(str(pdf)).pages[0].images) == 2


def test_bulk_download_can_be_forced_and_lists_the_left_out(client, awarded, tree, django_capture_on_commit_callbacks):
    people = [learner(unit=tree["unit_a"], name=name) for name in ("甲一", "乙二", "丙三")]
    LearnerProfile.objects.filter(user=people[0]).update(sex="")
    certificates = awarded(*people)
    admin = staff(Role.UNIT_ADMIN, tree["unit_a"])
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("certificates:bulk"), {"session": awarded.session.pk})
    assert BulkDownload.objects.get().state == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:bulk"), {"session": awarded.session.pk, "force": "on"})
    job = BulkDownload.objects.latest("pk")
    assert job.state == "ready" and job.total == job.done == 2 and job.left_out[0]["number"] == certificates[0].number
    page = client.get(response["Location"]).content.decode()
    assert "未放入压缩包" in page and certificates[0].number in page
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("certificates:bulk_download", args=[job.pk])).streaming_content))
    )
    names = archive.namelist()
    assert sorted(n for n in names if n.endswith(".pdf")) == sorted(
        f"{c.number}-{c.snapshot['name']}.pdf" for c in certificates[1:]
    )
    listing = archive.read("未打包的证书.txt").decode()
    assert certificates[0].number in listing and "甲一" in listing and "性别" in listing


def test_a_forced_bulk_with_nothing_complete_still_fails(client, awarded, tree, django_capture_on_commit_callbacks):
    person = learner(unit=tree["unit_a"])
    LearnerProfile.objects.filter(user=person).update(sex="")
    awarded(person)
    client.force_login(staff(Role.UNIT_ADMIN, tree["unit_a"]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("certificates:bulk"), {"session": awarded.session.pk, "force": "on"})
    job = BulkDownload.objects.get()
    assert job.state == "failed" and not job.file and job.problems
