"""Pages of W2: the organiser's applications, the two review queues, the public query.

Views parse input, call services and render; every object is fetched through
a scope check and answers 404 outside it (DESIGN.md §3).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal import ratelimit
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.pagination import paginate
from cme_portal.ratelimit import client_ip
from cme_portal.review.views import take_action
from cme_portal.review.workflow import timeline

from . import selectors, services
from .forms import MaterialForm, NationalProjectForm, SessionFieldsForm
from .models import HOSTING_WORKFLOW, SessionState

PAGE_SIZE = 20


def _page(request, queryset):
    return paginate(request, queryset, PAGE_SIZE)


# --- organiser ---------------------------------------------------------------


@role_required(Role.ORGANISER)
def my_sessions(request):
    mine = selectors.my_sessions(request.user, filters=request.GET)
    return render(
        request,
        "projects/my_sessions.html",
        {
            "form": mine.form,
            "page_obj": _page(request, mine.qs),
            "counts": selectors.my_state_counts(request.user),
            "hostable": selectors.hostable_projects(request.user).annotate(n_sessions=Count("sessions")),
        },
    )


@role_required(Role.ORGANISER)
def national_new(request):
    form = NationalProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.enter_national_project(request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("国家级项目已录入。请上传会议通知和日程，然后提交申请。"))
            return redirect("projects:session_detail", session.pk)
    return render(request, "projects/national_form.html", {"form": form})


@role_required(Role.ORGANISER)
def session_new(request, project_pk):
    project = get_object_or_404(selectors.hostable_projects(request.user), pk=project_pk)
    form = SessionFieldsForm(request.POST or None, initial={"credits": project.credits, "hours": project.hours})
    if request.method == "POST" and form.is_valid():
        try:
            session = services.apply_to_host(request.user, project, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("举办申请已创建。请上传会议通知和日程，然后提交申请。"))
            return redirect("projects:session_detail", session.pk)
    return render(request, "projects/session_form.html", {"form": form, "project": project})


@login_required
def session_edit(request, pk):
    session = selectors.get_session(request.user, pk, own=True)
    form = SessionFieldsForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_session(selectors.get_session(request.user, pk, own=True), request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("已保存。"))
            return redirect("projects:session_detail", pk)
    return render(request, "projects/session_form.html", {"form": form, "project": session.project, "session": session})


@login_required
def session_detail(request, pk):
    session = selectors.get_session(request.user, pk)
    return render(
        request,
        "projects/session_detail.html",
        {
            "session": session,
            "materials": {m.kind: m for m in session.materials.all()},
            "material_form": MaterialForm(),
            "actions": HOSTING_WORKFLOW.available(session, request.user),
            "timeline": timeline(session),
            "is_owner": session.organiser_id == request.user.pk,
        },
    )


@require_POST
@login_required
def material_upload(request, pk):
    session = selectors.get_session(request.user, pk, own=True)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_material(session, request.user, form.cleaned_data["kind"], form.cleaned_data["file"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("“%(name)s”已上传。") % {"name": form.cleaned_data["file"].name})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # The progress bar's request: say where to go, and leave the message for that page (a redirect followed
        # by XHR would render it there and lose it).
        return JsonResponse({"next": reverse("projects:session_detail", args=[pk])})
    return redirect("projects:session_detail", pk)


@login_required
def material_download(request, public_id):
    material = selectors.get_material(request.user, public_id)
    return FileResponse(
        material.file.open("rb"), as_attachment=True, filename=material.original_name, content_type=material.content_type
    )


@require_POST
@login_required
def session_action(request, pk):
    """Submit, forward, approve or return: one endpoint for every transition."""
    session = selectors.get_session(request.user, pk)
    return take_action(
        request,
        session,
        submit=lambda action, reason: services.submit(session, request.user),
        review=lambda action, reason: HOSTING_WORKFLOW.review(session, request.user, action, reason),
        back_to=session.get_absolute_url(),
        next_prefix="/projects/",
    )


@login_required
def session_delete(request, pk):
    session = selectors.get_session(request.user, pk, own=True)
    if session.state != SessionState.DRAFT:
        raise Http404
    if request.method == "POST":
        services.delete_draft(session, request.user)
        messages.success(request, _("举办申请已删除。"))
        return redirect("projects:my_sessions")
    return render(request, "projects/session_delete.html", {"session": session})


# --- public -------------------------------------------------------------------


def public_search(request):
    """Anonymous project query: year, level, number, name, discipline, leader, status."""
    if not ratelimit.hit("public-query", client_ip(request), limit=120, period=60):
        return render(request, "429.html", status=429)
    found = selectors.public_projects(filters=request.GET)
    return render(request, "projects/public_search.html", {"form": found.form, "page_obj": _page(request, found.qs)})


def public_detail(request, pk):
    project, sessions = selectors.public_project(pk)
    return render(request, "projects/public_detail.html", {"project": project, "sessions": sessions})
