"""Certificates: issue one per award, render it (idempotently), revoke, find and verify.

Like Indico, a certificate is filled in first (a snapshot of every printed
field) and checked for missing fields before any PDF is drawn.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cme_portal.accounts.models import LearnerProfile, OrgKind, Sex, User
from cme_portal.accounts.validators import mask_name
from cme_portal.audit.services import record_event
from cme_portal.errors import DomainError
from credits.models import CreditRecord, RecordStatus, Source

from . import designs, render, signing
from .models import BulkDownload, Certificate, CertificateStatus

log = logging.getLogger("cme.certificates")

REQUIRED = ("name", "sex", "age", "unit", "project_name", "project_number", "dates", "credits_text")


def issuing_body(record):
    unit = record.session.unit if record.session_id and record.session.unit_id else None
    return province_issuing_body(unit.ancestor_of_kind(OrgKind.PROVINCE) if unit else None)


def province_issuing_body(province):
    return _("%(province)s继续医学教育委员会") % {"province": province.name} if province else _("继续医学教育委员会")


def snapshot_for(record, certificate, template=None):
    """Every printed field of ``record``'s certificate, as it will be printed.

    Printed in the learner's language (the one they chose last, not the
    requester's; issue 13) and with the age at the session, so re-rendering
    later changes nothing that was true then. The template version may set
    the title and the issuing body.
    """
    with translation.override(record.learner.preferred_language):
        snapshot = _snapshot(record, certificate)
    if template is not None and template.title:
        snapshot["title"] = template.title
    if template is not None and template.issuing_body:
        snapshot["issuer"] = template.issuing_body
    return snapshot


def _age_at(profile, day):
    if profile is None or day is None:
        return None
    if profile.birth_date:
        born = profile.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    if profile.declared_age is not None and profile.declared_age_on:
        return profile.declared_age + max(0, (day - profile.declared_age_on).days) // 365
    return None


LEVELS = {
    "national": gettext_lazy("国家级"),
    "provincial": gettext_lazy("省级"),
    "city": gettext_lazy("市级"),
    "district": gettext_lazy("区级"),
}


def credit_line(credit):
    """ "国家级 I类 10 分" / "National, Class I, 10 credits" from the snapshot's parts, in the active language."""
    return _("%(level)s %(cls)s类 %(credits)s 分") % {
        "level": LEVELS.get(credit.get("level"), ""),
        "cls": credit.get("cls", ""),
        "credits": credit.get("credits", ""),
    }


def shown_credit_line(snapshot):
    """The certificate's credit line in the reader's language (as drawn, for certificates drawn before issue 13)."""
    return credit_line(snapshot["credit"]) if snapshot.get("credit") else snapshot.get("credits_text", "")


def _snapshot(record, certificate):
    profile = LearnerProfile.objects.filter(user_id=record.learner_id).select_related("unit").first()
    learner = record.learner
    session = record.session
    credit = {"level": record.level, "cls": record.credit_class, "credits": f"{record.credits.normalize():f}"}
    return {
        "title": _("继续医学教育学分证书"),
        "number_label": _("证书编号："),
        "number": certificate.number,
        "name": learner.name,
        "sex": str(Sex(profile.sex).label) if profile and profile.sex else "",
        "age": str(_age_at(profile, record.end_date or record.start_date))
        if _age_at(profile, record.end_date or record.start_date) is not None
        else "",
        "unit": profile.unit_display if profile else "",
        "project_name": record.activity_name,
        "project_number": record.activity_number,
        "dates": f"{session.start_date:%Y-%m-%d} {_('至')} {session.end_date:%Y-%m-%d}" if session else "",
        "venue": session.venue if session else "",
        "credits_text": credit_line(credit),
        # The parts of the credit line: pages show it in the reader's language (issue 13).
        "credit": credit,
        "issuer": issuing_body(record),
        "issued_on": timezone.localtime(certificate.issued_at).strftime("%Y-%m-%d"),
        "verify_url": certificate.verify_url,
        "scan_label": _("扫码验证"),
        "labels": {
            "name": _("姓名"),
            "sex": _("性别："),
            "age": _("年龄："),
            "unit": _("工作单位"),
            "project": _("项目名称"),
            "project_number": _("项目编号"),
            "when": _("时间地点"),
            "credits": _("授予学分"),
        },
    }


def missing_fields(snapshot):
    labels = {
        "name": _("姓名"),
        "sex": _("性别"),
        "age": _("年龄"),
        "unit": _("工作单位"),
        "project_name": _("项目名称"),
        "project_number": _("项目编号"),
        "dates": _("举办日期"),
        "credits_text": _("学分"),
    }
    return [str(labels[key]) for key in REQUIRED if not snapshot.get(key)]


def issue(record):
    """The certificate of an award, created once: the same award never gets two, nor two numbers."""
    certificate, created = Certificate.objects.get_or_create(record=record, defaults={"learner_id": record.learner_id})
    if created or not certificate.number:
        year = record.year
        Certificate.objects.filter(pk=certificate.pk, number__isnull=True).update(number=f"CME{year}{certificate.pk:08d}")
        certificate.refresh_from_db(fields=["number"])
    return certificate


def render_certificate(record_id, *, reissue=False):
    """Issue and render the certificate of one award, signed with the province's key; safe to run twice.

    A certificate is drawn with the template version it was first drawn with
    (a new one with its province's current version); ``reissue`` draws it
    with the current version instead. A render whose snapshot and version
    equal the stored ones and whose file exists is skipped, so a task
    redelivered after a worker died does not draw again. Returns the
    certificate.
    """
    record = CreditRecord.objects.select_related("learner", "session__unit").get(pk=record_id)
    certificate = issue(record)
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).select_related("template").get(pk=certificate.pk)
        if certificate.template_id and not reissue:
            template = certificate.template
        else:
            template = designs.current_template(designs.province_of_record(record))
        snapshot = snapshot_for(record, certificate, template)
        if (
            certificate.file
            and certificate.snapshot == snapshot
            and certificate.template_id == getattr(template, "pk", None)
            and certificate.file.storage.exists(certificate.file.name)
        ):
            return certificate  # drawn already (a redelivered task); a file storage lost is drawn again
        pdf = render.render(snapshot, designs.design_for(template), signer=signing.signer())
        old = certificate.file.name if certificate.file else None
        certificate.file.save(f"{certificate.code}.pdf", ContentFile(pdf), save=False)
        certificate.snapshot = snapshot
        certificate.template = template
        certificate.sha256 = hashlib.sha256(pdf).hexdigest()
        certificate.rendered_at = timezone.now()
        certificate.render_count = F("render_count") + 1
        certificate.save(update_fields=["file", "snapshot", "template", "sha256", "rendered_at", "render_count"])
        if old and old != certificate.file.name:
            storage, name = certificate.file.storage, old
            transaction.on_commit(lambda: storage.delete(name))
    certificate.refresh_from_db()
    return certificate


def awards_needing_certificates(record_ids):
    return CreditRecord.objects.filter(
        pk__in=record_ids, source=Source.PROJECT_AWARD, status=RecordStatus.EFFECTIVE, reverses__isnull=True
    )


@transaction.atomic
def revoke(certificate, by, reason):
    """Revoke with a reason; the verify page shows it as revoked from then on."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤销原因。"), code="reason_required", field="reason")
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status == CertificateStatus.REVOKED:
        raise DomainError(_("该证书已撤销。"), code="already_revoked")
    certificate.status, certificate.revoked_at, certificate.revoke_reason = CertificateStatus.REVOKED, timezone.now(), reason
    certificate.save(update_fields=["status", "revoked_at", "revoke_reason"])
    log.info("revoked", extra={"object_id": certificate.pk, "actor_id": by.pk})
    record_event(certificate, "certificate_revoked", actor=by, reason=reason)
    return certificate


def revoke_reversed(record_ids, reason, actor_id=None):
    """Credits corrected or cancelled: their certificates no longer tell the truth, so they verify as revoked."""
    revoked = Certificate.objects.filter(record_id__in=record_ids, status=CertificateStatus.ISSUED).update(
        status=CertificateStatus.REVOKED,
        revoked_at=timezone.now(),
        revoke_reason=(_("学分已更正或撤销：%(reason)s") % {"reason": reason})[:200],
    )
    if revoked:
        log.info("revoked_with_credits", extra={"records": list(record_ids), "actor_id": actor_id, "certificates": revoked})
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        for certificate in Certificate.objects.filter(record_id__in=record_ids, status=CertificateStatus.REVOKED):
            record_event(certificate, "certificate_revoked_with_credits", actor=actor, reason=reason)
    return revoked


def request_bulk_download(user, unit, *, session=None, year=None, force=False):
    """A unit admin asks for a ZIP of the unit's certificates (tasks.build_bulk_download builds it).

    With ``force`` (Indico's receipts) the ZIP is built even when some certificates have missing fields: those are
    left out and listed in a text file inside the ZIP.
    """
    return BulkDownload.objects.create(requested_by=user, unit=unit, session=session, year=year, force=force)


def public_view(certificate):
    """What a stranger may see: the masked name, the project, the credits, the dates, the status."""
    snap = certificate.snapshot
    return {
        "number": certificate.number,
        "name": mask_name(snap.get("name", "")),
        "project_name": snap.get("project_name", ""),
        "project_number": snap.get("project_number", ""),
        "credits_text": shown_credit_line(snap),
        "issued_on": snap.get("issued_on", ""),
        "status": certificate.status,
        "revoked_at": certificate.revoked_at,
    }
