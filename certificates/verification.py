"""Checking a certificate PDF someone uploads: is it signed with the province's key, and what does the record say?

The upload is read in memory (views.MemoryOnlyUploadHandler) and never stored.
pyHanko validates the signature with the province's signing certificate (and
its chain) as the only trust roots; a file changed after signing, even by one
byte, fails. The certificate on record is found by the file's hash (an exact
copy of the issued file) or, when the signature holds, by the verification
code the renderer writes into the PDF's keywords.
"""

import hashlib
import io
import logging
import re
from dataclasses import dataclass

from asn1crypto import x509
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from cme_portal.errors import DomainError

from . import signing
from .models import Certificate

log = logging.getLogger("cme.certificates")

MAX_PDF_BYTES = 5 * 1024 * 1024
CODE_IN_KEYWORDS = re.compile(r"cme-verify:([0-9A-Z]{6,16})")


class Signature:
    VALID = "valid"  # intact, covers the whole file, made with the province's key
    OTHER_SIGNER = "other_signer"  # intact, but someone else's key
    INVALID = "invalid"  # changed after signing, or a broken signature
    NONE = "none"  # not signed at all


@dataclass
class Verdict:
    signature: str
    certificate: Certificate | None = None
    same_file: bool = False  # byte for byte the file the portal issued (its current version)

    @property
    def record(self):
        """valid, revoked or unknown: what the portal's record says of the certificate this file claims to be."""
        if self.certificate is None:
            return "unknown"
        return "revoked" if self.certificate.status == "revoked" else "valid"


def _trust():
    the_signer = signing.signer()
    roots = the_signer.asn1_chain
    return the_signer.asn1_chain[0], roots


def _keywords(reader):
    try:
        info = reader.trailer_view.get("/Info")
        return str(info.get_object().get("/Keywords", "")) if info is not None else ""
    except Exception:
        return ""


def _signature(embedded, ours, roots):
    try:
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
    except Exception as error:  # a mangled CMS, a wrong byte range: not a valid signature, never a 500
        log.info("certificate_pdf_signature_unreadable", extra={"error": error.__class__.__name__})
        return Signature.INVALID
    if not (status.intact and status.valid) or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return Signature.INVALID
    signer_cert = status.signing_cert
    if status.trusted and isinstance(signer_cert, x509.Certificate) and signer_cert.dump() == ours.dump():
        return Signature.VALID
    return Signature.OTHER_SIGNER


def check_pdf(data):
    """The ``Verdict`` on a PDF's bytes; a DomainError (in Chinese) for something that is not a readable PDF."""
    if len(data) > MAX_PDF_BYTES:
        raise DomainError(
            _("文件过大：证书 PDF 不超过 %(mb)s MB。") % {"mb": max(1, MAX_PDF_BYTES // (1024 * 1024))},
            code="too_large",
            field="pdf",
        )
    if not data[:1024].lstrip().startswith(b"%PDF-"):
        raise DomainError(_("这不是 PDF 文件，请上传平台颁发的证书 PDF。"), code="not_pdf", field="pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:
        raise DomainError(_("无法读取该 PDF，文件可能已损坏。"), code="unreadable", field="pdf")
    digest = hashlib.sha256(data).hexdigest()
    same = Certificate.objects.filter(sha256=digest).first()
    if not signatures:
        return Verdict(Signature.NONE, certificate=same, same_file=same is not None)
    ours, roots = _trust()
    # The last signature: an earlier one no longer covers the whole file (see _signature), so a forger's signature
    # added after the province's is judged as the forger's.
    verdict = _signature(signatures[-1], ours, roots)
    certificate = same
    if certificate is None and verdict == Signature.VALID:
        found = CODE_IN_KEYWORDS.search(_keywords(reader))
        certificate = Certificate.objects.filter(code=found.group(1)).first() if found else None
    return Verdict(verdict, certificate=certificate, same_file=same is not None)
