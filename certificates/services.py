"""Certificates: issue one per award, render it (idempotently), revoke, find and verify.

Like Indico, a certificate is filled in first (a snapshot of every printed
field) and checked for missing fields before any PDF is drawn.
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache, partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cme_portal.accounts.models import LearnerProfile, Sex, User
from cme_portal.accounts.validators import mask_name
from cme_portal.audit.services import record_event
from cme_portal.errors import DomainError
from credits.models import CreditRecord, RecordStatus, Source

from . import designs, render, signing
from .models import BulkDownload, Certificate, CertificateStatus
from .signals import certificates_drawn

log = logging.getLogger("cme.certificates")

# Awards drawn and committed together: a crash loses at most this many drawings (drawn again on re-run), and
# the per-chunk queries are shared by this many certificates.
TRANSACTION_SIZE = 100

REQUIRED = ("name", "sex", "age", "unit", "project_name", "project_number", "dates", "credits_text")


def province_issuing_body(province):
    return _("%(province)s继续医学教育委员会") % {"province": province.name} if province else _("继续医学教育委员会")


_LOAD = object()  # "look it up": snapshot_for's profile and province when the caller has not loaded them


def snapshot_for(record, certificate, template=None, *, profile=_LOAD, province=_LOAD):
    """Every printed field of ``record``'s certificate, as it will be printed.

    Printed in the learner's language (the one they chose last, not the
    requester's; issue 13) and with the age at the session, so re-rendering later changes nothing that was true then.
    The template version may set the title and the issuing body. A batch
    passes the learner's ``profile`` (with its unit) and the session's
    ``province`` it loaded for the whole chunk; otherwise they are looked up.
    """
    if profile is _LOAD:
        profile = LearnerProfile.objects.filter(user_id=record.learner_id).select_related("unit").first()
    if province is _LOAD:
        province = designs.province_of_record(record)
    with translation.override(record.learner.preferred_language):
        snapshot = _snapshot(record, certificate, profile, province)
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


@lru_cache(maxsize=8)
def _words(language):
    """A certificate's fixed words in ``language`` (the active one): looked up once, not forty times a certificate."""
    return {
        "title": _("继续医学教育学分证书"),
        "number_label": _("证书编号："),
        "to": _("至"),
        "levels": {"national": _("国家级"), "provincial": _("省级"), "city": _("市级"), "district": _("区级")},
        "credits": _("%(level)s %(cls)s类 %(credits)s 分"),
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


def _snapshot(record, certificate, profile, province):
    learner = record.learner
    session = record.session
    words = _words(translation.get_language())
    credit = {"level": record.level, "cls": record.credit_class, "credits": f"{record.credits.normalize():f}"}
    age = _age_at(profile, record.end_date or record.start_date)
    return {
        "title": words["title"],
        "number_label": words["number_label"],
        "number": certificate.number,
        "name": learner.name,
        "sex": str(Sex(profile.sex).label) if profile and profile.sex else "",
        "age": str(age) if age is not None else "",
        "unit": profile.unit_display if profile else "",
        "project_name": record.activity_name,
        "project_number": record.activity_number,
        "dates": f"{session.start_date:%Y-%m-%d} {words['to']} {session.end_date:%Y-%m-%d}" if session else "",
        "venue": session.venue if session else "",
        "credits_text": words["credits"] % {**credit, "level": words["levels"].get(record.level, "")},
        # The parts of the credit line: pages show it in the reader's language (issue 13).
        "credit": credit,
        "issuer": province_issuing_body(province),
        "issued_on": timezone.localtime(certificate.issued_at).strftime("%Y-%m-%d"),
        "verify_url": certificate.verify_url,
        "scan_label": words["scan_label"],
        "labels": dict(words["labels"]),
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


@dataclass
class Chunk:
    """What ``render_chunk`` did: certificates drawn, already drawn (skipped), and the awards that failed to draw."""

    drawn: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)

    def __add__(self, other):
        return Chunk(self.drawn + other.drawn, self.skipped + other.skipped, self.failed + other.failed)


def awards_needing_certificates(record_ids):
    """The effective project awards among ``record_ids`` that no correction has reversed: only these are drawn."""
    return CreditRecord.objects.filter(
        pk__in=record_ids,
        source=Source.PROJECT_AWARD,
        status=RecordStatus.EFFECTIVE,
        reverses__isnull=True,
        reversed_by__isnull=True,
    )


def render_chunk(record_ids, *, reissue=False):
    """Issue and render the certificates of these awards, signed with their province's key, in one transaction
    and with the same dozen queries whatever the chunk's size; safe to run twice, and beside another worker.

    The awards are locked first: a correction (which locks the award it reverses) either waits for this chunk
    and then revokes what it drew, or has committed and its award is left out. Reversed awards and revoked
    certificates are never drawn. A certificate is drawn with the template version it was first drawn with (a
    new one with its province's current version); ``reissue`` draws it with the current version instead. One
    whose snapshot and version equal the stored ones and whose file exists is skipped, so a redelivered task
    draws nothing again. A certificate that cannot be drawn is logged and listed in ``failed`` while the others
    go on (the reconciler queues it again). The rows are written with one bulk update and the learners told
    in bulk (``certificates_drawn``); a crash rolls the whole chunk back and removes the files it wrote, so a
    re-run starts clean. Returns a ``Chunk``.
    """
    written = []
    try:
        with transaction.atomic():
            return _render_chunk(sorted(set(record_ids)), reissue, written)
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


def _render_chunk(ids, reissue, written):
    started, cpu, drawing = time.perf_counter(), time.process_time(), 0.0
    list(CreditRecord.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    # Read after the locks are held, so a reversal committed meanwhile is seen.
    records = list(
        awards_needing_certificates(ids).select_related("learner__profile__unit", "session__unit", "certificate").order_by("pk")
    )
    if not records:
        return Chunk()
    certificates = _issue(records)
    provinces = designs.provinces_of_units({r.session.unit for r in records if r.session_id and r.session.unit_id})
    province_of = {r.pk: provinces.get(r.session.unit_id) if r.session_id else None for r in records}
    templates = {}
    if reissue or any(not c.template_id for c in certificates.values()):
        templates = designs.current_templates(province_of.values())
    signer, now = signing.signer(), timezone.now()
    changed, drawn, result = [], [], Chunk()
    for record in records:
        certificate = certificates.get(record.pk)
        if certificate is None or certificate.status != CertificateStatus.ISSUED:
            continue  # revoked: never drawn again
        if not certificate.number:
            certificate.number = f"CME{record.year}{certificate.pk:08d}"
            changed.append(certificate)
        province = province_of[record.pk]
        if certificate.template_id and not reissue:
            template = certificate.template
        else:
            template = templates.get(province.pk if province else None)
        snapshot = snapshot_for(record, certificate, template, profile=_profile(record.learner), province=province)
        if (
            certificate.file
            and certificate.snapshot == snapshot
            and certificate.template_id == getattr(template, "pk", None)
            and certificate.file.storage.exists(certificate.file.name)
        ):
            result.skipped += 1
            continue  # drawn already (a redelivered task); a file storage lost is drawn again
        try:
            at = time.perf_counter()
            pdf = render.render(snapshot, designs.design_for(template), signer=signer)
            drawing += time.perf_counter() - at
        except Exception:
            log.exception("certificate_render_failed", extra={"record_id": record.pk})
            result.failed.append(record.pk)
            continue
        old = certificate.file.name if certificate.file else None
        certificate.file.save(f"{certificate.code}.pdf", ContentFile(pdf), save=False)
        written.append((certificate.file.storage, certificate.file.name))
        if old and old != certificate.file.name:
            transaction.on_commit(partial(certificate.file.storage.delete, old))
        certificate.snapshot, certificate.template, certificate.sha256 = snapshot, template, hashlib.sha256(pdf).hexdigest()
        certificate.rendered_at = now
        certificate.record, certificate.learner = record, record.learner
        if not changed or changed[-1] is not certificate:
            changed.append(certificate)
        drawn.append(certificate)
    if changed:
        _write(changed, {certificate.pk for certificate in drawn})
    if drawn:
        certificates_drawn.send(sender=Certificate, certificates=drawn)
        log.info(
            "certificates_drawn",
            extra={
                "drawn": len(drawn),
                "first_record_id": drawn[0].record_id,
                "seconds": round(time.perf_counter() - started, 3),
                "drawing_seconds": round(drawing, 3),
                "cpu_seconds": round(time.process_time() - cpu, 3),
            },
        )
    result.drawn = len(drawn)
    return result


WRITTEN = ("number", "file", "snapshot", "template", "sha256", "rendered_at")


def _write(certificates, drawn):
    """The chunk's rows in one statement, counting a drawing for those in ``drawn`` (pks). On PostgreSQL an
    UPDATE from arrays: Django's ``bulk_update`` builds a CASE per row and field, whose Python cost was a sixth
    of a chunk's time (profiled: 1.1 s of 6.2 s for 200 certificates)."""
    if connection.vendor != "postgresql":
        for certificate in certificates:
            if certificate.pk in drawn:
                certificate.render_count = F("render_count") + 1
        Certificate.objects.bulk_update(certificates, [*WRITTEN, "render_count"])
        return
    columns = {name: Certificate._meta.get_field(name).column for name in (*WRITTEN, "render_count")}
    values = [
        [c.pk for c in certificates],
        [c.number for c in certificates],
        [c.file.name or "" for c in certificates],
        [json.dumps(c.snapshot) for c in certificates],
        [c.template_id for c in certificates],
        [c.sha256 for c in certificates],
        [c.rendered_at for c in certificates],
        [int(c.pk in drawn) for c in certificates],
    ]
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(Certificate._meta.db_table)} AS c SET "
            + ", ".join(f"{q(columns[name])} = v.{name}" for name in WRITTEN if name != "snapshot")
            + f", {q(columns['snapshot'])} = v.snapshot::jsonb"
            + f", {q(columns['render_count'])} = c.{q(columns['render_count'])} + v.drawn"
            + " FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::text[], %s::bigint[], %s::varchar[],"
            " %s::timestamptz[], %s::int[]) AS v(id, number, file, snapshot, template, sha256, rendered_at, drawn)"
            " WHERE c.id = v.id",
            values,
        )


def _issue(records):
    """The chunk's certificates by award, locked; the missing ones created first (one per award, whoever is first:
    the insert skips an award that has one, waiting for a concurrent creator's commit)."""
    Certificate.objects.bulk_create(
        # hasattr reads what the records' query joined: no query per award
        [Certificate(record_id=r.pk, learner_id=r.learner_id) for r in records if not hasattr(r, "certificate")],
        ignore_conflicts=True,
    )
    locked = Certificate.objects.select_for_update(of=("self",)).select_related("template").order_by("pk")
    return {c.record_id: c for c in locked.filter(record_id__in=[r.pk for r in records])}


def _profile(user):
    try:
        return user.profile
    except LearnerProfile.DoesNotExist:
        return None


def warm_up():
    """Draw one throwaway signed page: a process's first certificate pays for loading the fonts, the signing key
    and the language catalogue (about a second, two under load). Celery worker processes call it when they start
    (worker_process_init, connected in CertificatesConfig.ready), so a batch's first chunk does not."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            text = _("继续医学教育学分证书")
        fields = {key: text for key in ("title", "number_label", "number", "name", "sex", "age", "unit", "project_name")}
        fields |= {key: text for key in ("project_number", "dates", "venue", "credits_text", "issuer", "issued_on")}
        fields["labels"] = dict.fromkeys(("name", "sex", "age", "unit", "project", "project_number", "when", "credits"), text)
        fields["scan_label"] = text
        fields["verify_url"] = Certificate(code="2" * 10).verify_url  # its length fixes the QR code's version
        try:
            signer = signing.signer()
        except ImproperlyConfigured:  # no key: every certificate will say so; the fonts are still worth loading
            signer = None
        render.render(fields, signer=signer)
    except Exception:  # a worker starts anyway; its first certificate tells what is wrong
        log.exception("certificate_warm_up_failed")


def render_many(record_ids, *, reissue=False, size=TRANSACTION_SIZE):
    """``render_chunk`` over ``record_ids``, ``size`` awards to a transaction; returns the chunks' sum."""
    ids, result = list(record_ids), Chunk()
    for start in range(0, len(ids), size):
        result += render_chunk(ids[start : start + size], reissue=reissue)
    return result


def render_certificate(record_id, *, reissue=False):
    """Issue and render the certificate of one award (``render_chunk`` of one); returns it, or None when the
    award gets none (reversed, or not a project award)."""
    render_chunk([record_id], reissue=reissue)
    return Certificate.objects.filter(record_id=record_id).first()


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
