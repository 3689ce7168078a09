"""W7: certificates rendered from awards, read back, decoded, verified, revoked, found, bundled."""

import io
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from certificates import services
from certificates.models import BulkDownload, Certificate
from cme_portal.accounts.models import LearnerProfile, Role
from cme_portal.accounts.services import update_profile
from credits.services import award
from projects.models import Session

from .factories import ProjectFactory, learner, staff

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "certificates"


@pytest.fixture
def session(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    project = ProjectFactory(
        holding_unit=tree["unit_a"],
        name="心血管疾病规范化诊疗进展学习班",
        number="2026-03-01-001（国）",
        number_key="2026-03-01-001(国)",
        level="national",
        credits=10,
    )
    return Session.objects.create(
        project=project,
        venue="甲市会议中心",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 3),
        credits=10,
        hours=30,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )


@pytest.fixture
def awarded(session, tree, django_capture_on_commit_callbacks):
    def give(*people):
        with django_capture_on_commit_callbacks(execute=True):
            records = award(session, people)
        return [Certificate.objects.get(record=r) for r in records]

    return give


def pdf_text(certificate):
    with certificate.file.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read())).pages[0].extract_text()


def to_png(certificate, name):
    """The page as an image, kept as a test artifact (pdftoppm from poppler-utils)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    with certificate.file.open("rb") as handle:
        pdf.write_bytes(handle.read())
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(ARTIFACTS / name)], check=True)
    return ARTIFACTS / f"{name}.png"


def test_an_award_renders_a_certificate_that_reads_back(awarded, tree):
    person = learner(unit=tree["unit_a"], name="王秀英")
    (certificate,) = awarded(person)
    assert certificate.number.startswith("CME2026") and len(certificate.code) == 10
    text = pdf_text(certificate)
    for expected in (
        "继续医学教育学分证书",
        "王秀英",
        certificate.number,
        "心血管疾病规范化诊疗进展学习班",
        "2026-03-01-001",
        "国家级 I类 10 分",
        "甲市人民医院",
    ):
        assert expected in text, expected


def test_the_qr_code_decodes_to_the_verify_address(awarded, tree):
    import zxingcpp

    (certificate,) = awarded(learner(unit=tree["unit_a"]))
    image = Image.open(to_png(certificate, "certificate-qr"))
    payloads = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    assert payloads == [f"https://cme.example.org/certificates/verify/{certificate.code}/"]


def test_rendering_twice_gives_one_certificate_and_one_drawing(awarded, tree, session):
    person = learner(unit=tree["unit_a"])
    (certificate,) = awarded(person)
    number = certificate.number
    services.render_certificate(certificate.record_id)
    from certificates.tasks import render_certificates

    render_certificates([certificate.record_id])
    certificate.refresh_from_db()
    assert Certificate.objects.filter(record=certificate.record).count() == 1
    assert certificate.number == number and certificate.render_count == 1


def test_a_rare_name_renders_with_a_fallback_font(awarded, tree):
    (certificate,) = awarded(learner(unit=tree["unit_a"], name="王堃𠀾"))
    with certificate.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    fonts_used = {str(font["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    if not any("Hana" in name for name in fonts_used):
        pytest.skip("fonts-hanazono not installed: the fallback font is missing")
    # 堃 comes back as text; 𠀾 (extension plane B) is drawn from HanaMin, which pypdf cannot map back
    # to text, so the rendered page is kept as an image to look at.
    assert "王堃" in reader.pages[0].extract_text()
    png = to_png(certificate, "certificate-rare-name")
    name_area = Image.open(png).convert("L").crop((280, 280, 520, 330))
    dark = sum(name_area.histogram()[:100])
    assert dark > 300, "the name line is blank"


def test_revoked_certificates_verify_as_revoked(client, awarded, tree):
    (certificate,) = awarded(learner(unit=tree["unit_a"], name="王秀英"))
    page = client.get(reverse("certificates:verify", args=[certificate.code]))
    assert "证书有效" in page.content.decode() and "王*" in page.content.decode() and "王秀英" not in page.content.decode()
    services.revoke(certificate, staff(Role.PROVINCE_ADMIN, tree["province"]), "学员名单有误")
    page = client.get(reverse("certificates:verify", args=[certificate.code]))
    assert "证书已撤销" in page.content.decode() and "撤销" in page.content.decode()


def test_an_unknown_code_says_so(client):
    page = client.get(reverse("certificates:verify", args=["NOSUCHCODE"]))
    assert page.status_code == 404 and "未找到该证书" in page.content.decode()


def test_verify_is_rate_limited(client):
    for _ in range(60):
        client.get(reverse("certificates:verify", args=["NOSUCHCODE"]))
    assert client.get(reverse("certificates:verify", args=["NOSUCHCODE"])).status_code == 429


def test_a_learner_cannot_download_anothers_certificate(client, awarded, tree):
    mine, theirs = awarded(learner(unit=tree["unit_a"]), learner(unit=tree["unit_a"]))
    client.force_login(mine.learner)
    assert client.get(reverse("certificates:download", args=[mine.number])).status_code == 200
    assert client.get(reverse("certificates:download", args=[theirs.number])).status_code == 404
    assert theirs.number not in client.get(reverse("certificates:mine")).content.decode()


def test_public_query_answers_the_same_shape_masked_with_signed_links(client, awarded, tree):
    person = learner(unit=tree["unit_a"], name="王秀英")
    (certificate,) = awarded(person)
    url = reverse("certificates:query")
    hit = client.post(
        url, {"by": "document", "id_number": person.id_number.lower(), "name": "王秀英", "captcha_0": "x", "captcha_1": "PASSED"}
    )
    miss = client.post(
        url, {"by": "document", "id_number": "11010519491231002X", "name": "王秀英", "captcha_0": "x", "captcha_1": "PASSED"}
    )
    assert hit.status_code == miss.status_code == 200
    assert hit.context["results"] and miss.context["results"] == []
    assert "检索结果" in hit.content.decode() and "检索结果" in miss.content.decode()
    result = hit.context["results"][0]
    results_html = hit.content.decode().split("检索结果", 1)[1]  # the form above keeps what was typed
    assert result["name"] == "王*英" and "王秀英" not in results_html
    download = client.get(reverse("certificates:signed_download", args=[result["link"]]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    by_project = client.post(
        url, {"by": "project", "project_number": "2026-03-01-001 (国)", "name": "王秀英", "captcha_0": "x", "captcha_1": "PASSED"}
    )
    assert len(by_project.context["results"]) == 1
    assert client.get(reverse("certificates:signed_download", args=[result["link"] + "x"])).status_code == 410


def test_signed_links_expire(client, awarded, tree):
    import time_machine
    from django.utils import timezone

    (certificate,) = awarded(learner(unit=tree["unit_a"], name="王秀英"))
    from django.core import signing

    link = signing.TimestampSigner(salt="certificates.download").sign(str(certificate.pk))
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=2)):
        assert client.get(reverse("certificates:signed_download", args=[link])).status_code == 410


def test_the_public_query_needs_the_captcha_and_is_rate_limited(client, awarded, tree):
    url = reverse("certificates:query")
    for by in ("document", "project"):
        wrong = client.post(
            url, {"by": by, "id_number": "x", "project_number": "x", "name": "y", "captcha_0": "x", "captcha_1": "WRONG"}
        )
        assert "captcha" in wrong.context["form"].errors
    for _ in range(8):
        client.post(url, {"by": "project", "project_number": "x", "name": "y", "captcha_0": "x", "captcha_1": "PASSED"})
    limited = client.post(url, {"by": "project", "project_number": "x", "name": "y", "captcha_0": "x", "captcha_1": "PASSED"})
    assert limited.status_code == 429


def test_completing_a_blank_sex_re_renders(awarded, tree, django_capture_on_commit_callbacks):
    person = learner(unit=tree["unit_a"])
    LearnerProfile.objects.filter(user=person).update(sex="")
    (certificate,) = awarded(person)
    assert certificate.snapshot["sex"] == "" and "性别" in services.missing_fields(certificate.snapshot)
    with django_capture_on_commit_callbacks(execute=True):
        update_profile(person, sex="F")
    certificate.refresh_from_db()
    assert certificate.snapshot["sex"] == "女" and certificate.render_count == 2


def test_bulk_download_checks_first_then_zips(client, awarded, tree, session, django_capture_on_commit_callbacks):
    people = [learner(unit=tree["unit_a"]) for _ in range(3)]
    LearnerProfile.objects.filter(user=people[0]).update(sex="")
    awarded(*people)
    admin = staff(Role.UNIT_ADMIN, tree["unit_a"])
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:bulk"), {"session": session.pk})
    job = BulkDownload.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert job.state == "failed" and "性别" in page and job.problems[0]["missing"] == ["性别"]

    with django_capture_on_commit_callbacks(execute=True):
        update_profile(people[0], sex="M")
        client.post(reverse("certificates:bulk"), {"session": session.pk})
    job = BulkDownload.objects.latest("pk")
    assert job.state == "ready" and job.done == job.total == 3
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("certificates:bulk_download", args=[job.pk])).streaming_content))
    )
    assert len(archive.namelist()) == 3

    other = staff(Role.UNIT_ADMIN, tree["unit_b"])
    client.force_login(other)
    assert client.get(reverse("certificates:bulk_status", args=[job.pk])).status_code == 404
    assert client.get(reverse("certificates:bulk_download", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("who", ["learner", "organiser", "city_admin"])
def test_bulk_and_manage_pages_refuse_other_roles(client, tree, who):
    user = {
        "learner": lambda: learner(unit=tree["unit_a"]),
        "organiser": lambda: staff(Role.ORGANISER, tree["unit_a"]),
        "city_admin": lambda: staff(Role.CITY_ADMIN, tree["city_a"]),
    }[who]()
    client.force_login(user)
    assert client.get(reverse("certificates:bulk")).status_code == 404
    assert client.get(reverse("certificates:manage")).status_code == 404
    assert client.post(reverse("certificates:revoke", args=[1]), {"reason": "x"}).status_code == 404


def test_a_province_admin_manages_only_their_provinces_certificates(client, awarded, tree):
    from cme_portal.accounts.models import OrgKind

    from .factories import OrganisationFactory

    (certificate,) = awarded(learner(unit=tree["unit_a"]))
    elsewhere = staff(Role.PROVINCE_ADMIN, OrganisationFactory(name="别省", kind=OrgKind.PROVINCE))
    client.force_login(elsewhere)
    assert certificate.number not in client.get(reverse("certificates:manage")).content.decode()
    assert client.post(reverse("certificates:revoke", args=[certificate.pk]), {"reason": "越权"}).status_code == 404
    certificate.refresh_from_db()
    assert certificate.status == "issued"


def test_the_snapshot_does_not_drift_with_language_or_time(client, awarded, tree):
    import time_machine
    from django.utils import timezone
    from django.utils.translation import override

    (certificate,) = awarded(learner(unit=tree["unit_a"]))
    age = certificate.snapshot["age"]
    with override("en"):
        services.render_certificate(certificate.record_id)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=3 * 365)):
        services.render_certificate(certificate.record_id)
    certificate.refresh_from_db()
    assert certificate.render_count == 1 and certificate.snapshot["age"] == age
    assert certificate.snapshot["title"] == "继续医学教育学分证书"


def test_revoked_certificates_are_not_drawn_again(awarded, tree, django_capture_on_commit_callbacks):
    person = learner(unit=tree["unit_a"])
    (certificate,) = awarded(person)
    services.revoke(certificate, staff(Role.PROVINCE_ADMIN, tree["province"]), "名单有误")
    with django_capture_on_commit_callbacks(execute=True):
        update_profile(person, sex="F")
    certificate.refresh_from_db()
    assert certificate.render_count == 1


def test_a_bulk_job_that_fails_while_building_ends_as_failed(awarded, tree, session, monkeypatch):
    from certificates import tasks

    awarded(learner(unit=tree["unit_a"]))
    job = BulkDownload.objects.create(requested_by=staff(Role.UNIT_ADMIN, tree["unit_a"]), unit=tree["unit_a"], session=session)
    monkeypatch.setattr(tasks.zipfile.ZipFile, "writestr", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        tasks.build_bulk_download(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "OSError" in job.problems[0]["missing"]
    assert tasks.build_bulk_download(job.pk) == "taken"  # a redelivered task does not start it again


def test_a_units_zip_says_how_many_certificates_of_other_units_it_leaves_out(
    client, awarded, tree, session, django_capture_on_commit_callbacks
):
    """Issue 13: a unit's ZIP of a session silently left out the attendees of other units."""
    ours, theirs = learner(unit=tree["unit_a"]), learner(unit=tree["unit_b"])
    awarded(ours, theirs)
    client.force_login(staff(Role.UNIT_ADMIN, tree["unit_a"]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:bulk"), {"session": session.pk})
    job = BulkDownload.objects.get()
    assert job.state == "ready" and job.total == 1  # only the unit's own learner: the other is not ours to hand out
    page = client.get(response["Location"]).content.decode()
    assert "本期另有 1 名其他单位学员的证书不在本单位的压缩包中" in page


def test_seeding_again_on_another_address_redraws_the_demos_certificates(awarded, tree, settings):
    """Issue 13: after `make run PORT=8101`, seeded certificates kept the address of the first run in their QR code."""
    from certificates.demo import redraw_for_this_address

    [certificate] = awarded(learner(unit=tree["unit_a"]))
    assert certificate.snapshot["verify_url"].startswith(settings.PORTAL_BASE_URL)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8101"
    redraw_for_this_address()
    certificate.refresh_from_db()
    assert certificate.snapshot["verify_url"].startswith("http://127.0.0.1:8101/") and certificate.render_count == 2
