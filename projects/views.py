"""Pages of W2: the organiser's applications, the two review queues, the public query.

Views parse input, call services and render; every object is fetched through
a scope check and answers 404 outside it (DESIGN.md §3).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal import ratelimit
from cme_portal.errors import DomainError
from cme_portal.ratelimit import client_ip
from cme_portal.review.views import take_action
from cme_portal.review.workflow import timeline

from . import numbers, services
from .forms import (
    MaterialForm,
    NationalProjectForm,
    PublicSearchForm,
    QueueFilterForm,
    SessionFieldsForm,
)
from .models import HOSTING_WORKFLOW, Material, Project, ProjectStatus, Session, SessionState

PAGE_SIZE = 20

QUEUES = {
    "unit": (Role.UNIT_ADMIN, "projects/queue.html"),
    "province": (Role.PROVINCE_ADMIN, "projects/queue.html"),
}


def _sessions():
    return Session.objects.select_related("project", "project__discipline__parent", "unit", "organiser")


def _visible_session(user, pk):
    """The session if ``user`` owns it or reviews it within scope; else 404."""
    session = get_object_or_404(_sessions(), pk=pk)
    if not HOSTING_WORKFLOW.can_view(session, user):
        raise Http404
    return session


def _apply_search(queryset, text):
    text = (text or "").strip()
    if not text:
        return queryset
    key = numbers.canonical(text)
    return queryset.filter(
        Q(project__number_key__icontains=key) | Q(project__name__icontains=text)
        | Q(project__leader__icontains=text) | Q(unit__name__icontains=text) | Q(venue__icontains=text)
    )


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- organiser ---------------------------------------------------------------

@role_required(Role.ORGANISER)
def my_sessions(request):
    form = QueueFilterForm(request.GET or None)
    queryset = _sessions().filter(organiser=request.user)
    if form.is_valid():
        queryset = _apply_search(queryset, form.cleaned_data["q"])
        if form.cleaned_data["year"]:
            queryset = queryset.filter(project__year=form.cleaned_data["year"])
        if form.cleaned_data["state"]:
            queryset = queryset.filter(state=form.cleaned_data["state"])
    counts = dict(
        Session.objects.filter(organiser=request.user).values_list("state").annotate(n=Count("pk")).order_by()
    )
    return render(request, "projects/my_sessions.html", {
        "form": form, "page_obj": _page(request, queryset.order_by("-created_at")), "counts": counts,
        "hostable": services.hostable_projects(request.user).annotate(n_sessions=Count("sessions")),
    })


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
    project = get_object_or_404(services.hostable_projects(request.user), pk=project_pk)
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
    session = _visible_session(request.user, pk)
    if session.organiser_id != request.user.pk:
        raise Http404
    form = SessionFieldsForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_session(Session.objects.get(pk=pk), request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("已保存。"))
            return redirect("projects:session_detail", pk)
    return render(request, "projects/session_form.html", {"form": form, "project": session.project, "session": session})


@login_required
def session_detail(request, pk):
    session = _visible_session(request.user, pk)
    return render(request, "projects/session_detail.html", {
        "session": session,
        "materials": {m.kind: m for m in session.materials.all()},
        "material_form": MaterialForm(),
        "actions": HOSTING_WORKFLOW.available(session, request.user),
        "timeline": timeline(session),
        "is_owner": session.organiser_id == request.user.pk,
    })


@require_POST
@login_required
def material_upload(request, pk):
    session = _visible_session(request.user, pk)
    if session.organiser_id != request.user.pk:
        raise Http404
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
    return redirect("projects:session_detail", pk)


@login_required
def material_download(request, public_id):
    material = get_object_or_404(Material.objects.select_related("session__unit"), public_id=public_id)
    if not HOSTING_WORKFLOW.can_view(material.session, request.user):
        raise Http404
    return FileResponse(
        material.file.open("rb"), as_attachment=True, filename=material.original_name, content_type=material.content_type
    )


@require_POST
@login_required
def session_action(request, pk):
    """Submit, forward, approve or return: one endpoint for every transition."""
    session = _visible_session(request.user, pk)
    return take_action(
        request, session, submit=lambda: services.submit(session, request.user),
        review=lambda action, reason: services.review(session, request.user, action, reason),
        back_to=session.get_absolute_url(), next_prefix="/projects/",
    )


@login_required
def session_delete(request, pk):
    session = _visible_session(request.user, pk)
    if session.organiser_id != request.user.pk or session.state != SessionState.DRAFT:
        raise Http404
    if request.method == "POST":
        services.delete_draft(session, request.user)
        messages.success(request, _("举办申请已删除。"))
        return redirect("projects:my_sessions")
    return render(request, "projects/session_delete.html", {"session": session})


# --- review queues -------------------------------------------------------------

def queue(request, level):
    """The unit admin's and the province admin's queues: waiting items first, in scope only."""
    if level not in QUEUES:
        raise Http404
    role, template = QUEUES[level]
    return role_required(role)(_queue)(request, role, level, template)


def _queue(request, role, level, template):
    form = QueueFilterForm(request.GET or None)
    cleaned = form.cleaned_data if form.is_valid() else {}
    base = _sessions()
    if cleaned.get("state"):
        queryset = HOSTING_WORKFLOW.visible(base, request.user, role).filter(state=cleaned["state"])
    else:
        queryset = HOSTING_WORKFLOW.queue(base, request.user, role)
    queryset = _apply_search(queryset, cleaned.get("q"))
    if cleaned.get("year"):
        queryset = queryset.filter(project__year=cleaned["year"])
    if cleaned.get("level"):
        queryset = queryset.filter(project__level=cleaned["level"])
    queryset = queryset.order_by(cleaned.get("sort") or "state_changed_at", "pk")
    page = _page(request, queryset)
    user = request.user
    for session in page:
        session.actions = HOSTING_WORKFLOW.available(session, user)
    return render(request, template, {
        "form": form, "page_obj": page, "level": level, "role": role,
        "waiting": HOSTING_WORKFLOW.queue(Session.objects, user, role).count(),
    })


# --- public -------------------------------------------------------------------

def public_search(request):
    """Anonymous project query: year, level, number, name, discipline, leader, status."""
    if not ratelimit.hit("public-query", client_ip(request), limit=120, period=60):
        return render(request, "429.html", status=429)
    form = PublicSearchForm(request.GET or None)
    queryset = Project.objects.select_related("discipline__parent", "holding_unit")
    if form.is_valid():
        data = form.cleaned_data
        if data["year"]:
            queryset = queryset.filter(year=data["year"])
        if data["level"]:
            queryset = queryset.filter(level=data["level"])
        if data["number"]:
            queryset = queryset.filter(number_key__icontains=numbers.canonical(data["number"]))
        if data["name"]:
            queryset = queryset.filter(name__icontains=data["name"].strip())
        if data["discipline"]:
            term = data["discipline"].strip()
            queryset = queryset.filter(
                Q(discipline__name__icontains=term) | Q(discipline__parent__name__icontains=term)
                | Q(discipline__code__startswith=term)
            )
        if data["leader"]:
            queryset = queryset.filter(leader__icontains=data["leader"].strip())
        if data["status"] == "approved":
            queryset = queryset.filter(sessions__state=SessionState.APPROVED).distinct()
        elif data["status"] in (ProjectStatus.PUBLISHED, ProjectStatus.SUSPENDED):
            queryset = queryset.filter(status=data["status"])
    queryset = queryset.annotate(
        approved_sessions=Count("sessions", filter=Q(sessions__state=SessionState.APPROVED))
    ).order_by("-year", "number_key")
    return render(request, "projects/public_search.html", {"form": form, "page_obj": _page(request, queryset)})


def public_detail(request, pk):
    project = get_object_or_404(
        Project.objects.select_related("discipline__parent", "holding_unit"), pk=pk
    )
    sessions = project.sessions.filter(state__in=[SessionState.APPROVED, SessionState.FILED]).order_by("sequence")
    return render(request, "projects/public_detail.html", {"project": project, "sessions": sessions})
