"""Reads of certificates: the learner's own, the province's, the public query and verification, bulk jobs."""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Role
from projects import numbers
from projects.models import Session, SessionState

from .filters import CertificateFilter
from .models import BulkDownload, BulkState, Certificate, CertificateStatus, ReissueJob


def mine(user):
    return (
        Certificate.objects.filter(learner=user)
        .select_related("record__session__unit", "record__session__project")
        .order_by("-issued_at", "-pk")
    )


def get_own(user, number):
    """The learner's own certificate by number; anyone else's is 404."""
    return get_object_or_404(Certificate, number=number, learner=user)


def get_issued(pk):
    """An issued certificate by id, for a signed download link (the signature is the access check)."""
    return get_object_or_404(Certificate, pk=pk, status=CertificateStatus.ISSUED)


def by_code(code):
    """The certificate a verification code names, or None (the verify page is public)."""
    return Certificate.objects.filter(code=code.strip().upper()).first()


def by_code_or_number(text):
    """The certificate a typed verification code or certificate number names, or None."""
    text = (text or "").strip().upper().replace(" ", "")
    if not text:
        return None
    return Certificate.objects.filter(Q(code=text) | Q(number=text)).first()


def public_query(*, name, id_number=None, project_number=None):
    """Seed 000 / seed 001 §3: by name plus document number, or plus project number; newest first (the page pages it)."""
    found = Certificate.objects.filter(learner__name=(name or "").strip())
    if project_number is not None:
        found = found.filter(record__activity_key=numbers.canonical(project_number))
    else:
        found = found.filter(learner__id_number=(id_number or "").strip().upper())
    return found.select_related("record__session__unit", "record__session__project").order_by("-issued_at", "-pk")


def query_columns(certificate):
    """Seed 000's 项目列表 columns of one certificate: 期数, 获取时间, 申办单位, 获取年, 学分类型, 举办地."""
    record = certificate.record
    session = record.session
    start, end = (session.start_date, session.end_date) if session else (record.start_date, record.end_date)
    when = f"{start:%Y-%m-%d} — {end:%Y-%m-%d}" if start and end else ""
    unit = session.unit.name if session and session.unit_id else (session.project.sponsor if session else "")
    return {
        "sequence": session.sequence if session else "",
        "obtained": when,
        "sponsor": unit or record.issuer,
        "year": record.year,
        "credit_type": f"{record.get_level_display()} {record.get_credit_class_display()} {record.credits.normalize():f} {_('分')}",
        "venue": session.venue if session else "",
    }


def managed(user):
    """Certificates of sessions held in the province admin's province."""
    return Certificate.objects.filter(user.scope_q(Role.PROVINCE_ADMIN, "record__session__unit__path"))


def managed_list(user, *, filters):
    """The province admin's certificates, searched; returns the FilterSet."""
    return CertificateFilter(filters, queryset=managed(user).select_related("learner", "record"))


def get_managed(user, pk):
    return get_object_or_404(managed(user), pk=pk)


def bulk_sessions(user):
    """The approved sessions a unit admin may bundle certificates of."""
    return Session.objects.in_scope_of(user, Role.UNIT_ADMIN).filter(state=SessionState.APPROVED).select_related("project")


def my_bulk_jobs(user, limit=10):
    return BulkDownload.objects.filter(requested_by=user)[:limit]


def get_bulk_job(user, pk, *, ready=False):
    """A bulk job of the person who asked for it; else 404."""
    queryset = BulkDownload.objects.filter(requested_by=user)
    if ready:
        queryset = queryset.filter(state=BulkState.READY)
    return get_object_or_404(queryset, pk=pk)


def template_province(user):
    """The province whose certificate template the province admin edits; 404 for an admin without one."""
    province = user.scope_nodes(Role.PROVINCE_ADMIN).first()
    if province is None:
        raise Http404
    return province


def my_reissue_jobs(user, province, limit=5):
    return ReissueJob.objects.filter(province=province).select_related("template")[:limit]


def get_reissue_job(user, pk):
    """A re-issue job of a province the admin administers; else 404."""
    return get_object_or_404(
        ReissueJob.objects.filter(user.scope_q(Role.PROVINCE_ADMIN, "province__path")).select_related("template"), pk=pk
    )


def other_units_certificates(job):
    """How many issued certificates of the job's session belong to learners of other units: not in the unit's
    ZIP (they are not the unit's to hand out), but said on the job's page instead of being left out silently."""
    if not job.session_id:
        return 0
    return (
        Certificate.objects.filter(status="issued", record__session_id=job.session_id)
        .exclude(record__learner__profile__unit__path__startswith=job.unit.path)
        .count()
    )
