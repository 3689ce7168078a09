"""Finding, downloading and verifying certificates; revocation; the unit's bulk ZIP."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.queueing import enqueue
from cme_portal.ratelimit import client_ip

from . import selectors, services
from .forms import BulkForm, ByDocumentForm, ByProjectForm
from .models import BulkState
from .tasks import build_bulk_download

LINK_SECONDS = 3600
SIGNER_SALT = "certificates.download"


def _pdf(certificate, as_attachment=False):
    if not certificate.file:
        raise Http404
    return FileResponse(
        certificate.file.open("rb"),
        as_attachment=as_attachment,
        filename=f"{certificate.number}.pdf",
        content_type="application/pdf",
    )


@login_required
def mine(request):
    certificates = selectors.mine(request.user)
    return render(request, "certificates/mine.html", {"certificates": certificates})


@login_required
def download(request, number):
    """The learner's own certificate, inline for printing; anyone else's is 404."""
    return _pdf(selectors.get_own(request.user, number))


def query(request):
    """Seed 000 and seed 001 §3: by document number + name + captcha, or by project number + name.

    The answer has the same shape whether or not anything matched; personal
    data is masked; downloads go through signed links that expire.
    """
    by = request.POST.get("by") or request.GET.get("by", "document")
    form_class = ByProjectForm if by == "project" else ByDocumentForm
    # POST: document numbers stay out of addresses, server logs and browser history.
    form = form_class(request.POST) if request.method == "POST" else form_class()
    results = None
    if form.is_bound:
        if not ratelimit.hit("certificate-query", client_ip(request), limit=10, period=60):
            return render(request, "429.html", status=429)
        if form.is_valid():
            data = form.cleaned_data
            found = selectors.public_query(
                name=data["name"], id_number=data.get("id_number"), project_number=data.get("project_number")
            )
            signer = signing.TimestampSigner(salt=SIGNER_SALT)
            results = [{**services.public_view(c), "link": signer.sign(str(c.pk))} for c in found]
    return render(request, "certificates/query.html", {"form": form, "by": by, "results": results})


def signed_download(request, token):
    try:
        pk = signing.TimestampSigner(salt=SIGNER_SALT).unsign(token, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return render(request, "certificates/link_expired.html", status=410)
    return _pdf(selectors.get_issued(pk))


def verify(request, code):
    """The address printed in every certificate's QR code (DESIGN.md §6)."""
    if not ratelimit.hit("certificate-verify", client_ip(request), limit=60, period=60):
        return render(request, "429.html", status=429)
    certificate = selectors.by_code(code)
    return render(
        request,
        "certificates/verify.html",
        {
            "code": code,
            "certificate": services.public_view(certificate) if certificate else None,
        },
        status=200 if certificate else 404,
    )


@role_required(Role.PROVINCE_ADMIN)
def manage(request):
    found = selectors.managed_list(request.user, filters=request.GET)
    queryset = found.qs
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(request, "certificates/manage.html", {"page_obj": page, "q": found.form["q"].value() or ""})


@require_POST
@role_required(Role.PROVINCE_ADMIN)
def revoke(request, pk):
    certificate = selectors.get_managed(request.user, pk)
    try:
        services.revoke(certificate, request.user, request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("证书 %(number)s 已撤销。") % {"number": certificate.number})
    return redirect("certificates:manage")


@role_required(Role.UNIT_ADMIN)
def bulk(request):
    unit = request.user.scope_nodes(Role.UNIT_ADMIN).first()
    form = BulkForm(request.POST or None)
    form.fields["session"].queryset = selectors.bulk_sessions(request.user)
    if request.method == "POST" and form.is_valid():
        job = services.request_bulk_download(
            request.user, unit, session=form.cleaned_data["session"], year=form.cleaned_data["year"]
        )
        enqueue(build_bulk_download, job.pk)
        return redirect("certificates:bulk_status", job.pk)
    jobs = selectors.my_bulk_jobs(request.user)
    return render(request, "certificates/bulk.html", {"form": form, "jobs": jobs})


@role_required(Role.UNIT_ADMIN)
def bulk_status(request, pk):
    job = selectors.get_bulk_job(request.user, pk)
    working = job.state in (BulkState.PENDING, BulkState.CHECKING, BulkState.BUILDING)
    expired = job.expires_at is not None and job.expires_at < timezone.now()
    return render(request, "certificates/bulk_status.html", {"job": job, "working": working, "expired": expired})


@role_required(Role.UNIT_ADMIN)
def bulk_download(request, pk):
    job = selectors.get_bulk_job(request.user, pk, ready=True)
    if not job.file or (job.expires_at and job.expires_at < timezone.now()):
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=f"certificates-{job.pk}.zip")
