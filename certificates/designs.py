"""The province's certificate template: versions, the design the renderer draws with, saving, re-issuing.

A saved version is never changed; saving the editor writes a new version. A
certificate keeps the version it was drawn with (a re-render after a
profile change uses it again), so editing the template never redraws an
issued certificate. Only a re-issue, which the province admin asks for,
draws the province's issued certificates again with the current version.
"""

import logging
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Organisation, OrgKind
from cme_portal.errors import DomainError

from . import render
from .models import Certificate, CertificateStatus, CertificateTemplate, ReissueJob

log = logging.getLogger("cme.certificates")

IMAGE_FIELDS = ("background", "seal", "signature")


def province_of_record(record):
    unit = record.session.unit if record.session_id and record.session.unit_id else None
    return unit.ancestor_of_kind(OrgKind.PROVINCE) if unit else None


def provinces_of_units(units):
    """{unit pk: the province above it, or None} for these organisation nodes, in one query (their paths name
    their ancestors); what ``province_of_record`` answers for one record, for a whole chunk."""
    paths = {unit.pk: [int(part) for part in unit.path.strip("/").split("/") if part] for unit in units if unit is not None}
    ancestors = {pk for ids in paths.values() for pk in ids}
    provinces = {org.pk: org for org in Organisation.objects.filter(pk__in=ancestors, kind=OrgKind.PROVINCE)} if ancestors else {}
    return {pk: next((provinces[i] for i in reversed(ids) if i in provinces), None) for pk, ids in paths.items()}


def current_templates(provinces):
    """{province pk: its current version, else the default; None: the default}, in one query: what
    ``current_template`` answers for one province, for a whole chunk."""
    ids = {province.pk for province in provinces if province is not None}
    latest = {}
    for template in CertificateTemplate.objects.filter(Q(province__in=ids) | Q(province__isnull=True)).order_by(
        "province_id", "-version"
    ):
        latest.setdefault(template.province_id, template)
    default = latest.get(None)
    return {**{pk: latest.get(pk, default) for pk in ids}, None: default}


def default_template():
    return CertificateTemplate.objects.filter(province__isnull=True).order_by("-version").first()


def current_template(province):
    """The province's latest version, else the portal's default."""
    if province is not None:
        found = CertificateTemplate.objects.filter(province=province).order_by("-version").first()
        if found:
            return found
    return default_template()


def versions(province):
    return CertificateTemplate.objects.filter(province=province).select_related("created_by").order_by("-version")


def _read(field_file):
    if not field_file:
        return None
    with field_file.open("rb") as handle:
        return handle.read()


@lru_cache(maxsize=64)
def _design(pk, created_at, background, seal, signature, frame):
    template = CertificateTemplate.objects.get(pk=pk)
    return render.Design(
        layout=template.layout or {},
        frame=frame,
        background=_read(template.background),
        seal=_read(template.seal),
        signature=_read(template.signature),
    )


def design_for(template):
    """The renderer's ``Design`` of a template version, read once per process (versions never change)."""
    if template is None:
        return render.DEFAULT_DESIGN
    return _design(
        template.pk, template.created_at, template.background.name, template.seal.name, template.signature.name, template.frame
    )


def design_from_form(layout, frame, images):
    """A design not saved yet, for the editor's preview: ``images`` maps a field to bytes (or None)."""
    return render.Design(layout=layout, frame=frame, **{name: images.get(name) for name in IMAGE_FIELDS})


@transaction.atomic
def save_template(user, province, *, title, issuing_body, frame, layout, uploads, clear=()):
    """Write the province's next version. ``uploads`` maps an image field to an uploaded file; an image neither
    uploaded nor in ``clear`` is carried over from the current version (the same stored file)."""
    Organisation.objects.select_for_update().get(pk=province.pk)  # one version number at a time
    current = current_template(province)
    number = (CertificateTemplate.objects.filter(province=province).aggregate(n=Max("version"))["n"] or 0) + 1
    template = CertificateTemplate(
        province=province,
        version=number,
        title=title.strip(),
        issuing_body=issuing_body.strip(),
        frame=frame,
        layout=layout,
        created_by=user,
    )
    for name in IMAGE_FIELDS:
        if name in uploads and uploads[name] is not None:
            getattr(template, name).save(uploads[name].name, uploads[name], save=False)
        elif name not in clear and current is not None and getattr(current, name):
            setattr(template, name, getattr(current, name).name)
    template.save()
    log.info("certificate_template_saved", extra={"object_id": template.pk, "actor_id": user.pk, "version": number})
    return template


def stale_certificates(province, template):
    """The province's issued certificates drawn with another version than ``template``."""
    return (
        Certificate.objects.filter(status=CertificateStatus.ISSUED, record__session__unit__path__startswith=province.path)
        .exclude(template=template)
        .order_by("pk")
    )


@transaction.atomic
def request_reissue(user, province):
    """Ask for the province's issued certificates to be drawn again with its current version (tasks.reissue)."""
    template = current_template(province)
    if template is None or template.province_id != province.pk:
        raise DomainError(_("请先保存本省的证书模板。"), code="no_template")
    try:
        with transaction.atomic():
            job = ReissueJob.objects.create(requested_by=user, province=province, template=template)
    except IntegrityError:  # one_running_reissue_per_province
        raise DomainError(_("已有一个重新颁发任务在进行中。"), code="reissue_running")
    log.info("certificate_reissue_requested", extra={"object_id": job.pk, "actor_id": user.pk, "template": template.pk})
    return job
