"""The province's digital signature in every certificate PDF (PAdES, ETSI.CAdES.detached).

The straightforward way (pyHanko's incremental signer: parse the finished
PDF, append a revision, sign) costs tens of milliseconds a PDF, which would
sink the batch target (DESIGN.md §7: 150 signed PDFs a second per core).
So the renderer writes the signature field itself in its single pass, with a
``/Contents`` placeholder and a ``/ByteRange`` to fill in (``sign_field``);
``seal_pdf`` then hashes the two byte ranges, builds the CMS SignedData from
pre-encoded pieces (only the message digest and the signature change from
one PDF to the next) and patches the placeholder. One real signature per
PDF, made with the province's key; pyHanko's validator checks it (tests and
the public upload check in ``verification.py``).

The key and certificate come from settings: ``CERTIFICATE_SIGNING_KEY`` and
``CERTIFICATE_SIGNING_CERT`` (PEM files; the certificate file may carry the
chain after the signer's certificate), or ``CERTIFICATE_SIGNING_PKCS12`` with
``CERTIFICATE_SIGNING_PASSWORD``. With none configured and
``CERTIFICATE_SIGNING_SELF_SIGNED`` on (the demo, the tests, the benchmark),
a self-signed ECDSA P-256 pair is made once in ``MEDIA_ROOT/keys/``.
"""

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfdoc

BYTE_RANGE_PLACEHOLDER = b"/ByteRange [0 0000000000 0000000000 0000000000]"
CONTENTS_MARK = b"/Contents <"
SIGNATURE_FIELD = "CME-Signature"
DEMO_SUBJECT = "继续医学教育委员会（演示签名，仅供测试）"


# ---------------------------------------------------------------- keys


def generate_self_signed(directory, common_name=DEMO_SUBJECT):
    """Write ``signing-key.pem`` and ``signing-cert.pem`` (ECDSA P-256, ten years) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name(
        [
            cx509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "CME Portal demo"),
            cx509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            cx509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(cx509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "signing-key.pem", directory / "signing-cert.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _load_material():
    """(private key, [signer certificate, chain...]) as cryptography objects, from settings."""
    pkcs12_path = getattr(settings, "CERTIFICATE_SIGNING_PKCS12", "")
    key_path = getattr(settings, "CERTIFICATE_SIGNING_KEY", "")
    cert_path = getattr(settings, "CERTIFICATE_SIGNING_CERT", "")
    password = getattr(settings, "CERTIFICATE_SIGNING_PASSWORD", "") or None
    if pkcs12_path:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            Path(pkcs12_path).read_bytes(), password.encode() if password else None
        )
        if key is None or certificate is None:
            raise ImproperlyConfigured("CERTIFICATE_SIGNING_PKCS12 holds no key and certificate")
        return key, [certificate, *chain]
    if not (key_path and cert_path):
        if not getattr(settings, "CERTIFICATE_SIGNING_SELF_SIGNED", False):
            raise ImproperlyConfigured(
                "Certificates are signed: set CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_CERT, or "
                "CERTIFICATE_SIGNING_PKCS12 (and CERTIFICATE_SIGNING_PASSWORD), or CERTIFICATE_SIGNING_SELF_SIGNED=1 "
                "for a demo key."
            )
        directory = Path(settings.MEDIA_ROOT) / "keys"
        key_path, cert_path = directory / "signing-key.pem", directory / "signing-cert.pem"
        with _GENERATE_LOCK:
            if not (Path(key_path).exists() and Path(cert_path).exists()):
                generate_self_signed(directory)
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password.encode() if password else None)
    certificates = cx509.load_pem_x509_certificates(Path(cert_path).read_bytes())
    return key, certificates


_GENERATE_LOCK = threading.Lock()


def signing_key_check(app_configs=None, **kwargs):
    """`manage.py check --deploy`: certificates need the province's own key in production."""
    from django.core.checks import Warning

    configured = getattr(settings, "CERTIFICATE_SIGNING_PKCS12", "") or (
        getattr(settings, "CERTIFICATE_SIGNING_KEY", "") and getattr(settings, "CERTIFICATE_SIGNING_CERT", "")
    )
    if configured:
        return []
    if getattr(settings, "CERTIFICATE_SIGNING_SELF_SIGNED", False):
        return [
            Warning(
                "Certificates are signed with a self-signed demo key.",
                hint="Set CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_CERT (or CERTIFICATE_SIGNING_PKCS12 and "
                "CERTIFICATE_SIGNING_PASSWORD) to the province's key.",
                id="certificates.W001",
            )
        ]
    return [
        Warning(
            "No certificate signing key is configured: certificates cannot be rendered.",
            hint="Set CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_CERT, or CERTIFICATE_SIGNING_PKCS12.",
            id="certificates.W002",
        )
    ]


# ---------------------------------------------------------------- DER by hand (the per-PDF part)


def _der_length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag, content):
    return bytes([tag]) + _der_length(len(content)) + content


class Signer:
    """A parsed key and certificate with the constant parts of the CMS pre-encoded; ``cms(digest)`` signs."""

    def __init__(self, key, certificates):
        self.key = key
        self.certificate = certificates[0]
        self.chain = certificates
        self.asn1_chain = [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates]
        signer = self.asn1_chain[0]
        if isinstance(key, ec.EllipticCurvePrivateKey):
            signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
            self._sign = lambda data: key.sign(data, ec.ECDSA(hashes.SHA256()))
            self.max_signature = 2 * ((key.curve.key_size + 7) // 8) + 16
        elif isinstance(key, rsa.RSAPrivateKey):
            signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
            self._sign = lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())
            self.max_signature = key.key_size // 8
        else:
            raise ImproperlyConfigured("The certificate signing key must be ECDSA or RSA")
        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
                cms.CMSAttribute({"type": "message_digest", "values": [b"\x00" * 32]}),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            tsp.SigningCertificateV2(
                                {
                                    "certs": [
                                        tsp.ESSCertIDv2(
                                            {
                                                "hash_algorithm": {"algorithm": "sha256"},
                                                "cert_hash": hashlib.sha256(signer.dump()).digest(),
                                                "issuer_serial": {
                                                    "issuer": [x509.GeneralName({"directory_name": signer.issuer})],
                                                    "serial_number": signer.serial_number,
                                                },
                                            }
                                        )
                                    ]
                                }
                            )
                        ],
                    }
                ),
            ]
        )
        attrs = signed_attrs.dump()  # DER SET OF (0x31): what the signature covers
        marker = core.OctetString(b"\x00" * 32).dump()
        at = attrs.index(marker) + len(marker) - 32
        self._attrs_head, self._attrs_tail = attrs[:at], attrs[at + 32 :]
        sid = cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": signer.issuer, "serial_number": signer.serial_number}})
        self._info_head = core.Integer(1).dump() + sid.dump() + digest_algorithm.dump()
        self._info_tail = signature_algorithm.dump()
        self._data_head = (
            core.Integer(1).dump()
            + cms.DigestAlgorithms([digest_algorithm]).dump()
            + cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
            + _tlv(0xA0, b"".join(c.dump() for c in self.asn1_chain))
        )
        self._signed_data_oid = cms.ContentType("signed_data").dump()
        self.placeholder_bytes = len(self.cms(b"\x00" * 32, signature=b"\x00" * self.max_signature)) + 64

    def cms(self, digest, *, signature=None):
        """The DER ContentInfo(SignedData) over a document whose SHA-256 is ``digest``."""
        attrs = self._attrs_head + digest + self._attrs_tail
        if signature is None:
            signature = self._sign(attrs)
        signer_info = _tlv(0x30, self._info_head + b"\xa0" + attrs[1:] + self._info_tail + _tlv(0x04, signature))
        signed_data = _tlv(0x30, self._data_head + _tlv(0x31, signer_info))
        return _tlv(0x30, self._signed_data_oid + _tlv(0xA0, signed_data))

    def certificate_der(self):
        return self.certificate.public_bytes(serialization.Encoding.DER)


_signer = None
_signer_key = None
_SIGNER_LOCK = threading.Lock()


def signer():
    """The process's signer, built once (re-built when the settings it was built from change, as in tests)."""
    global _signer, _signer_key
    key = (
        getattr(settings, "CERTIFICATE_SIGNING_PKCS12", ""),
        getattr(settings, "CERTIFICATE_SIGNING_KEY", ""),
        getattr(settings, "CERTIFICATE_SIGNING_CERT", ""),
        getattr(settings, "CERTIFICATE_SIGNING_SELF_SIGNED", False),
        str(settings.MEDIA_ROOT),
    )
    if _signer is None or _signer_key != key:
        with _SIGNER_LOCK:
            if _signer is None or _signer_key != key:
                _signer = Signer(*_load_material())
                _signer_key = key
    return _signer


# ---------------------------------------------------------------- the field reportlab writes, and the patch


class _SignatureValue(pdfdoc.PDFObject):
    """The signature dictionary with room for the CMS; ``seal_pdf`` fills it in."""

    def __init__(self, size, when):
        self.size, self.when = size, when

    def format(self, document):
        return (
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
            + BYTE_RANGE_PLACEHOLDER
            + b" /M (D:"
            + self.when.strftime("%Y%m%d%H%M%SZ").encode()
            + b") "
            + CONTENTS_MARK
            + b"0" * (2 * self.size)
            + b"> >>"
        )


class _SignatureWidget(pdfdoc.PDFObject):
    """An invisible signature field: readers list it in their signature panel."""

    def __init__(self, value):
        self.value = value

    def format(self, document):
        ref = pdfdoc.format(document.Reference(self.value), document)
        name = pdfdoc.format(pdfdoc.PDFString(SIGNATURE_FIELD), document)
        return b"<< /Type /Annot /Subtype /Widget /FT /Sig /F 132 /Rect [0 0 0 0] /T " + name + b" /V " + ref + b" >>"


class _AcroForm(pdfdoc.PDFObject):
    def __init__(self, widget_name):
        self.widget_name = widget_name

    def format(self, document):
        ref = pdfdoc.format(document.refAnnotation(self.widget_name), document)
        return b"<< /Fields [" + ref + b"] /SigFlags 3 >>"


def sign_field(page, size):
    """Add the signature field to the current page of reportlab ``page`` (before ``showPage``)."""
    value = _SignatureValue(size, datetime.now(UTC))
    page._doc.Reference(value)
    widget = _SignatureWidget(value)
    name = "CMESIG"
    page._addAnnotation(widget, name=name)
    page._doc.Catalog.AcroForm = _AcroForm(name)


def seal_pdf(pdf, the_signer=None):
    """Fill in the byte range and the CMS of a PDF written with ``sign_field``; returns the signed bytes."""
    the_signer = the_signer or signer()
    at = pdf.rfind(BYTE_RANGE_PLACEHOLDER)
    if at < 0:
        raise ValueError("no signature placeholder")
    start = pdf.index(CONTENTS_MARK, at) + len(CONTENTS_MARK) - 1  # the "<"
    end = pdf.index(b">", start + 1) + 1
    ranges = f"/ByteRange [0 {start} {end} {len(pdf) - end}]".encode()
    ranges = ranges[:-1] + b" " * (len(BYTE_RANGE_PLACEHOLDER) - len(ranges)) + b"]"
    signed = bytearray(pdf)  # one copy, patched in place
    signed[at : at + len(ranges)] = ranges
    view = memoryview(signed)
    digest = hashlib.sha256(view[:start])
    digest.update(view[end:])
    view.release()
    contents = the_signer.cms(digest.digest()).hex().encode()
    if len(contents) > end - start - 2:
        raise ValueError("signature larger than its placeholder")
    signed[start + 1 : start + 1 + len(contents)] = contents
    return bytes(signed)
