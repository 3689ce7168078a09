"""Finding, downloading and verifying certificates; revocation; the unit's bulk ZIP; the province's template."""

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.pagination import paginate
from cme_portal.queueing import enqueue
from cme_portal.ratelimit import client_ip

from . import designs, selectors, services, verification
from . import render as renderer
from .forms import BulkForm, ByDocumentForm, ByProjectForm, LookupForm, PdfCheckForm, TemplateForm
from .models import BulkState, ReissueState
from .tasks import build_bulk_download, reissue

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
    """Seed 000 step 5: a registered learner finds their certificates as the 项目列表, and 查看 each."""
    page = paginate(request, selectors.mine(request.user), 10)
    rows = [{"certificate": c, **selectors.query_columns(c)} for c in page]
    return render(request, "certificates/mine.html", {"certificates": rows, "page_obj": page})


@login_required
def download(request, number):
    """The learner's own certificate, inline for printing; anyone else's is 404."""
    return _pdf(selectors.get_own(request.user, number))


QUERY_KEY = "certificate_query"


def query(request):
    """Seed 000 and seed 001 §3: by document number + name + captcha, or by project number + name.

    The answer has the same shape whether or not anything matched; personal
    data is masked; downloads go through signed links that expire. The result is
    seed 000's 项目列表, paged (10 / 20 / 50): the criteria of a query that passed the
    captcha stay in the session for an hour, so further pages are plain links that
    carry no document number.
    """
    by = request.POST.get("by") or request.GET.get("by", "document")
    form_class = ByProjectForm if by == "project" else ByDocumentForm
    # POST: document numbers stay out of addresses, server logs and browser history.
    form = form_class(request.POST) if request.method == "POST" else form_class()
    criteria, data = None, request.GET
    if form.is_bound:
        if not ratelimit.hit("certificate-query", client_ip(request), limit=10, period=60):
            return render(request, "429.html", status=429)
        if form.is_valid():
            criteria = {
                "name": form.cleaned_data["name"],
                "id_number": form.cleaned_data.get("id_number"),
                "project_number": form.cleaned_data.get("project_number"),
            }
            request.session[QUERY_KEY] = {**criteria, "by": by, "at": timezone.now().timestamp()}
            data = request.POST
    elif "page" in request.GET or "per_page" in request.GET:
        kept = request.session.get(QUERY_KEY) or {}
        if kept.get("by") == by and timezone.now().timestamp() - kept.get("at", 0) < LINK_SECONDS:
            if not ratelimit.hit("certificate-page", client_ip(request), limit=60, period=60):
                return render(request, "429.html", status=429)
            criteria = {key: kept.get(key) for key in ("name", "id_number", "project_number")}
    results = page = None
    if criteria is not None:
        page = paginate(request, selectors.public_query(**criteria), 10, data=data)
        signer = signing.TimestampSigner(salt=SIGNER_SALT)
        results = [{**services.public_view(c), **selectors.query_columns(c), "link": signer.sign(str(c.pk))} for c in page]
    return render(request, "certificates/query.html", {"form": form, "by": by, "results": results, "page_obj": page})


def signed_download(request, token):
    try:
        pk = signing.TimestampSigner(salt=SIGNER_SALT).unsign(token, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return render(request, "certificates/link_expired.html", status=410)
    return _pdf(selectors.get_issued(pk))


def _verify_start(request, *, lookup=None, upload=None, found=None, verdict=None, status=200):
    return render(
        request,
        "certificates/verify_start.html",
        {
            "lookup": lookup or LookupForm(),
            "upload": upload or PdfCheckForm(),
            "found": found,
            "verdict": verdict,
            "verdict_certificate": services.public_view(verdict.certificate) if verdict and verdict.certificate else None,
            "pdf_limit_mb": verification.MAX_PDF_BYTES // (1024 * 1024),
        },
        status=status,
    )


def verify_start(request):
    """The public verify page: type the certificate number or the verification code printed on the paper (with a
    captcha and the public query's rate limit), or upload the PDF (verify_file)."""
    if request.method != "POST":
        return _verify_start(request)
    if not ratelimit.hit("certificate-lookup", client_ip(request), limit=10, period=60):
        return render(request, "429.html", status=429)
    form = LookupForm(request.POST)
    if not form.is_valid():
        return _verify_start(request, lookup=form)
    certificate = selectors.by_code_or_number(form.cleaned_data["q"])
    found = services.public_view(certificate) if certificate else False
    return _verify_start(request, lookup=LookupForm(), found=found)


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps an uploaded file in memory up to ``limit`` bytes and stops the upload beyond it: nothing touches disk."""

    chunk_size = 64 * 1024

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit = limit

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer, self.field_name, self.file_name, self.content_type, file_size, self.charset, self.content_type_extra
        )


@csrf_exempt  # the upload handler must be set before CsrfViewMiddleware reads the body; _verify_file checks the token
def verify_file(request):
    if request.method == "POST":
        request.upload_handlers = [MemoryOnlyUploadHandler(request, verification.MAX_PDF_BYTES)]
    return _verify_file(request)


@csrf_protect
def _verify_file(request):
    """Upload a certificate PDF: is its signature the province's, and what does the record say? Never stored."""
    if request.method != "POST":
        return redirect("certificates:verify_start")
    if not ratelimit.hit("certificate-file", client_ip(request), limit=10, period=60):
        return render(request, "429.html", status=429)
    form = PdfCheckForm(request.POST, request.FILES)
    if getattr(request, "upload_too_large", False):
        form = PdfCheckForm(request.POST, {})
        form.is_valid()  # the upload was stopped: say why instead of "required"
        form.errors["pdf"] = form.error_class(
            [_("文件过大：证书 PDF 不超过 %(mb)s MB。") % {"mb": max(1, verification.MAX_PDF_BYTES // (1024 * 1024))}]
        )
        return _verify_start(request, upload=form, status=400)
    if not form.is_valid():
        return _verify_start(request, upload=form, status=400)
    try:
        verdict = verification.check_pdf(form.cleaned_data["pdf"].read())
    except DomainError as error:
        form.add_error("pdf", error.message)
        return _verify_start(request, upload=form, status=400)
    return _verify_start(request, verdict=verdict)


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
    page = paginate(request, queryset, 30)
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
            request.user,
            unit,
            session=form.cleaned_data["session"],
            year=form.cleaned_data["year"],
            force=form.cleaned_data["force"],
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
    return render(
        request,
        "certificates/bulk_status.html",
        {"job": job, "working": working, "expired": expired, "other_units": selectors.other_units_certificates(job)},
    )


@role_required(Role.UNIT_ADMIN)
def bulk_download(request, pk):
    job = selectors.get_bulk_job(request.user, pk, ready=True)
    if not job.file or (job.expires_at and job.expires_at < timezone.now()):
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=f"certificates-{job.pk}.zip")


# ---------------------------------------------------------------- the province's certificate template


@role_required(Role.PROVINCE_ADMIN)
def template_edit(request):
    """Edit the province's certificate template; saving writes a new version (issued certificates are not redrawn)."""
    province = selectors.template_province(request.user)
    current = designs.current_template(province)
    form = TemplateForm(request.POST or None, request.FILES or None, initial=TemplateForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        template = designs.save_template(
            request.user,
            province,
            title=form.cleaned_data["title"],
            issuing_body=form.cleaned_data["issuing_body"],
            frame=form.cleaned_data["frame"],
            layout=form.layout,
            uploads=form.uploads(),
            clear=form.cleared(),
        )
        messages.success(
            request,
            _("已保存为第 %(version)s 版。已颁发的证书不会改变；需要时可“按新模板重新颁发”。") % {"version": template.version},
        )
        return redirect("certificates:template")
    return render(
        request,
        "certificates/template_edit.html",
        {
            "form": form,
            "images": [(form[name], form[f"clear_{name}"]) for name in designs.IMAGE_FIELDS],
            "current": current,
            "province": province,
            "versions": designs.versions(province)[:20],
            "jobs": selectors.my_reissue_jobs(request.user, province),
            "stale": designs.stale_certificates(province, current).count() if current else 0,
        },
    )


SAMPLE_FIELDS = {
    "number_label": "证书编号：",
    "number": "CME202600000001",
    "name": "王明",
    "sex": "男",
    "age": "36",
    "unit": "某某市第一人民医院",
    "project_name": "心血管疾病规范化诊疗进展学习班",
    "project_number": "2026-03-01-001（国）",
    "dates": "2026-06-01 至 2026-06-03",
    "venue": "某某市会议中心",
    "credits_text": "国家级 I类 10 分",
    "issued_on": "2026-06-10",
    "verify_url": "https://cme.example.org/certificates/verify/ABCDEFGHJK/",
    "scan_label": "扫码验证",
    "labels": {
        "name": "姓名",
        "sex": "性别：",
        "age": "年龄：",
        "unit": "工作单位",
        "project": "项目名称",
        "project_number": "项目编号",
        "when": "时间地点",
        "credits": "授予学分",
    },
}


def _preview_png(pdf):
    """The first page as a PNG, with poppler's pdftoppm (the same PDF the renderer writes for a certificate)."""
    with tempfile.TemporaryDirectory(prefix="cme-preview-") as folder:
        source = Path(folder) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-singlefile", str(source), str(Path(folder) / "page")],
            check=True,
            timeout=20,
            capture_output=True,
        )
        return (Path(folder) / "page.png").read_bytes()


@require_POST
@role_required(Role.PROVINCE_ADMIN)
def template_preview(request):
    """The editor's live preview: the form as posted (saved nothing), drawn by the certificate renderer itself with
    sample fields, as a PNG (or the PDF when pdftoppm is not installed)."""
    province = selectors.template_province(request.user)
    current = designs.current_template(province)
    form = TemplateForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    stored = designs.design_for(current)
    images = {}
    for name in designs.IMAGE_FIELDS:
        if form.cleaned_data.get(f"{name}_bytes"):
            images[name] = form.cleaned_data[f"{name}_bytes"]
        elif name not in form.cleared():
            images[name] = getattr(stored, name)
    fields = {
        **SAMPLE_FIELDS,
        "title": form.cleaned_data["title"] or _("继续医学教育学分证书"),
        "issuer": form.cleaned_data["issuing_body"] or services.province_issuing_body(province),
    }
    pdf = renderer.render(fields, designs.design_from_form(form.layout, form.cleaned_data["frame"], images))
    if shutil.which("pdftoppm"):
        try:
            return HttpResponse(_preview_png(pdf), content_type="image/png", headers={"Cache-Control": "no-store"})
        except (OSError, subprocess.SubprocessError):  # the PDF itself is the preview then, never a 500
            pass
    return HttpResponse(pdf, content_type="application/pdf", headers={"Cache-Control": "no-store"})


@require_POST
@role_required(Role.PROVINCE_ADMIN)
def template_reissue(request):
    province = selectors.template_province(request.user)
    try:
        job = designs.request_reissue(request.user, province)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("certificates:template")
    reissue.delay_on_commit(job.pk)
    return redirect("certificates:reissue_status", job.pk)


@role_required(Role.PROVINCE_ADMIN)
def reissue_status(request, pk):
    job = selectors.get_reissue_job(request.user, pk)
    working = job.state in (ReissueState.PENDING, ReissueState.RUNNING)
    return render(request, "certificates/reissue_status.html", {"job": job, "working": working})
