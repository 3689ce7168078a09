"""Issue 15: every certificate PDF carries the province's signature; anyone verifies by link, by typed code, or by file."""

import io
import re

import pytest
from asn1crypto import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import render, services, signing, verification, views
from cme_portal.accounts.models import Role

from .factories import learner, staff
from .fixtures.certificates import file_bytes

pytestmark = pytest.mark.django_db
FIELDS_FOR_BENCH = {**views.SAMPLE_FIELDS, "title": "继续医学教育学分证书", "issuer": "测试省继续医学教育委员会"}


@pytest.fixture
def awarded(signed_awards):
    return signed_awards


def province_root():
    return x509.Certificate.load(signing.signer().certificate_der())


def test_an_issued_certificate_is_signed_and_pyhanko_validates_it(awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"], name="王秀英"))[0]
    data = file_bytes(certificate)
    reader = PdfFileReader(io.BytesIO(data))
    [embedded] = reader.embedded_signatures
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[province_root()]))
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert certificate.sha256 and __import__("hashlib").sha256(data).hexdigest() == certificate.sha256


def test_another_key_is_not_trusted(awarded, tree, tmp_path):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    _, other_cert = signing.generate_self_signed(tmp_path, common_name="冒充的委员会")
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import serialization

    other = x509.Certificate.load(
        cx509.load_pem_x509_certificate(other_cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    )
    [embedded] = PdfFileReader(io.BytesIO(file_bytes(certificate))).embedded_signatures
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[other]))
    assert status.intact and not status.trusted and not status.bottom_line


def test_the_signer_reads_a_pkcs12_file_too(settings, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key_path, cert_path = signing.generate_self_signed(tmp_path / "pem")
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    from cryptography import x509 as cx509

    cert = cx509.load_pem_x509_certificate(cert_path.read_bytes())
    bundle = tmp_path / "province.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(b"cme", key, cert, None, serialization.BestAvailableEncryption(b"s3cret"))
    )
    settings.CERTIFICATE_SIGNING_PKCS12 = str(bundle)
    settings.CERTIFICATE_SIGNING_PASSWORD = "s3cret"
    signer = signing.signer()
    assert signer.certificate == cert
    pdf = render.render(FIELDS_FOR_BENCH, signer=signer)
    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    root = x509.Certificate.load(signer.certificate_der())
    assert validate_pdf_signature(embedded, ValidationContext(trust_roots=[root])).bottom_line


def test_without_a_configured_key_production_refuses_to_sign(settings):
    settings.CERTIFICATE_SIGNING_SELF_SIGNED = False
    settings.CERTIFICATE_SIGNING_KEY = settings.CERTIFICATE_SIGNING_CERT = settings.CERTIFICATE_SIGNING_PKCS12 = ""
    with pytest.raises(Exception, match="CERTIFICATE_SIGNING"):
        signing.signer()


def upload(client, data, name="certificate.pdf"):
    return client.post(reverse("certificates:verify_file"), {"pdf": SimpleUploadedFile(name, data, "application/pdf")})


def test_the_upload_check_accepts_the_issued_file_and_names_its_record(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"], name="王秀英"))[0]
    page = upload(client, file_bytes(certificate))
    assert page.status_code == 200
    verdict = page.context["verdict"]
    assert verdict.signature == "valid" and verdict.record == "valid" and verdict.certificate == certificate
    text = page.content.decode()
    assert "数字签名有效" in text and certificate.number in text and "王*" in text and "王秀英" not in text


def test_a_one_byte_change_is_refused(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    data = bytearray(file_bytes(certificate))
    # One byte of the printed text's content stream (inside the signed range, the file still parses).
    at = data.index(b"stream", 2000) + 20
    data[at] ^= 0x01
    page = upload(client, bytes(data))
    assert page.status_code == 200
    assert page.context["verdict"].signature == "invalid"
    assert "数字签名无效" in page.content.decode()
    # The record is not vouched for by a broken file.
    assert page.context["verdict"].certificate is None


def test_a_changed_signature_byte_is_refused_too(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    data = bytearray(file_bytes(certificate))
    at = data.index(b"/Contents <") + len(b"/Contents <") + 200
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    page = upload(client, bytes(data))
    assert page.status_code == 200 and page.context["verdict"].signature == "invalid"


def test_a_revoked_certificate_file_says_revoked(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    services.revoke(certificate, staff(Role.PROVINCE_ADMIN, tree["province"]), "名单有误")
    page = upload(client, file_bytes(certificate))
    assert page.context["verdict"].signature == "valid" and page.context["verdict"].record == "revoked"
    assert "证书已撤销" in page.content.decode()


def test_an_older_copy_still_names_its_certificate_by_the_signed_code(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    old = file_bytes(certificate)
    services.render_certificate(certificate.record_id, reissue=True)  # same version: skipped, nothing changes
    certificate.refresh_from_db()
    type(certificate).objects.filter(pk=certificate.pk).update(sha256="0" * 64)  # as if drawn again since
    page = upload(client, old)
    verdict = page.context["verdict"]
    assert verdict.signature == "valid" and verdict.certificate == certificate and not verdict.same_file
    assert "较早的版本" in page.content.decode()


def test_a_pdf_signed_with_another_key_is_not_the_provinces(client, awarded, tree, tmp_path):
    """A forger's PDF: a valid signature, the code of a real certificate in its keywords, but not the province's key."""
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    key_path, cert_path = signing.generate_self_signed(tmp_path, common_name=signing.DEMO_SUBJECT)
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import serialization

    forger = signing.Signer(
        serialization.load_pem_private_key(key_path.read_bytes(), None), cx509.load_pem_x509_certificates(cert_path.read_bytes())
    )
    forged = render.render({**certificate.snapshot, "credits_text": "国家级 I类 99 分"}, signer=forger)
    page = upload(client, forged)
    verdict = page.context["verdict"]
    assert verdict.signature == "other_signer" and verdict.certificate is None
    assert "不是本省发证机构的密钥签署的" in page.content.decode()


def test_a_signed_pdf_of_an_unknown_certificate_says_unknown(client):
    pdf = render.render(FIELDS_FOR_BENCH, signer=signing.signer())
    page = upload(client, pdf)
    assert page.context["verdict"].signature == "valid" and page.context["verdict"].record == "unknown"
    assert "未知" in page.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"hello, not a pdf", "这不是 PDF 文件"),
        (b"%PDF-1.4\n garbage garbage", "无法读取该 PDF"),
        (b"", "空文件"),  # Django's own message (its wording differs between releases)
    ],
)
def test_bad_uploads_get_a_clear_chinese_message(client, data, message):
    page = upload(client, data)
    assert page.status_code == 400 and message in page.content.decode()


def test_an_unsigned_pdf_says_so(client):
    page = upload(client, render.render(FIELDS_FOR_BENCH))
    assert page.status_code == 200 and page.context["verdict"].signature == "none"
    assert "没有数字签名" in page.content.decode()


def test_a_too_large_upload_is_refused_without_being_kept(client, monkeypatch):
    monkeypatch.setattr(verification, "MAX_PDF_BYTES", 10_000)
    page = upload(client, b"%PDF-1.4\n" + b"0" * 50_000)
    assert page.status_code == 400 and "文件过大" in page.content.decode()


def test_the_upload_handler_keeps_nothing_beyond_the_limit(rf):
    from django.core.files.uploadhandler import StopFutureHandlers, StopUpload

    request = rf.post("/")
    handler = views.MemoryOnlyUploadHandler(request, limit=100)
    with pytest.raises(StopFutureHandlers):  # no other handler (no temporary file) sees the upload
        handler.new_file("pdf", "a.pdf", "application/pdf", 500)
    handler.receive_data_chunk(b"x" * 64, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 64, 64)
    assert request.upload_too_large and handler.buffer.getvalue() == b"x" * 64


def test_a_change_appended_after_signing_is_refused(client, awarded, tree):
    """An incremental update (what a PDF editor writes when it saves a change) leaves the signature intact over
    the first revision, but it no longer covers the file: refused."""
    from pyhanko.pdf_utils.generic import pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    writer = IncrementalPdfFileWriter(io.BytesIO(file_bytes(certificate)))
    writer.root["/Lang"] = pdf_string("en")
    writer.update_root()
    changed = io.BytesIO()
    writer.write(changed)
    page = upload(client, changed.getvalue())
    assert page.status_code == 200 and page.context["verdict"].signature == "invalid"


def test_the_upload_check_is_rate_limited(client):
    for _ in range(10):
        assert upload(client, b"not a pdf").status_code == 400
    assert upload(client, b"not a pdf").status_code == 429


def test_the_upload_needs_the_csrf_token(awarded, tree):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.post(reverse("certificates:verify_file"), {"pdf": SimpleUploadedFile("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert page.status_code == 403


def lookup(client, q, captcha="PASSED"):
    return client.post(reverse("certificates:verify_start"), {"q": q, "captcha_0": "x", "captcha_1": captcha})


def test_typed_code_or_number_verifies_with_the_captcha(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"], name="王秀英"))[0]
    assert client.get(reverse("certificates:verify_start")).status_code == 200
    by_code = lookup(client, f" {certificate.code.lower()} ")
    assert by_code.context["found"]["number"] == certificate.number and "证书有效" in by_code.content.decode()
    by_number = lookup(client, certificate.number)
    assert by_number.context["found"]["number"] == certificate.number
    wrong_captcha = lookup(client, certificate.code, captcha="WRONG")
    assert wrong_captcha.context["found"] is None and "captcha" in wrong_captcha.context["lookup"].errors
    unknown = lookup(client, "ZZZZZZZZZZ")
    assert unknown.context["found"] is False and "未找到该证书" in unknown.content.decode()
    services.revoke(certificate, staff(Role.PROVINCE_ADMIN, tree["province"]), "名单有误")
    assert "证书已撤销" in lookup(client, certificate.code).content.decode()


def test_typed_verification_is_rate_limited(client):
    for _ in range(10):
        assert lookup(client, "ZZZZZZZZZZ").status_code == 200
    assert lookup(client, "ZZZZZZZZZZ").status_code == 429


def test_the_qr_link_still_verifies(client, awarded, tree):
    certificate = awarded(learner(unit=tree["unit_a"]))[0]
    page = client.get(reverse("certificates:verify", args=[certificate.code]))
    assert page.status_code == 200 and "证书有效" in page.content.decode()
    # The address in the signed PDF's keywords is the one in its QR code.
    assert re.search(rb"cme-verify:" + certificate.code.encode(), file_bytes(certificate))


def test_an_rsa_key_signs_too(tmp_path):
    """A province whose CA issued an RSA key: the same pre-encoded CMS, with an RSA signature."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "测试省继续医学教育委员会")])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(cx509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    signer = signing.Signer(key, [cert])
    pdf = render.render(FIELDS_FOR_BENCH, signer=signer)
    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    root = x509.Certificate.load(signer.certificate_der())
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root]))
    assert status.bottom_line and status.md_algorithm == "sha256"


def test_the_deploy_check_warns_about_a_demo_key_or_none(settings):
    settings.CERTIFICATE_SIGNING_KEY = settings.CERTIFICATE_SIGNING_CERT = settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_SELF_SIGNED = True
    assert [w.id for w in signing.signing_key_check()] == ["certificates.W001"]
    settings.CERTIFICATE_SIGNING_SELF_SIGNED = False
    assert [w.id for w in signing.signing_key_check()] == ["certificates.W002"]
    settings.CERTIFICATE_SIGNING_KEY, settings.CERTIFICATE_SIGNING_CERT = "/keys/province.key", "/keys/province.pem"
    assert signing.signing_key_check() == []
