"""The province admin's catalogue: disciplines, and projects in and out of Excel."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.exports import stamp, xlsx_file_response
from cme_portal.pagination import paginate
from cme_portal.queueing import enqueue

from . import selectors, services
from .forms import DisciplineForm, ImportForm
from .imports import export_projects
from .models import Discipline, Entry, ImportState, Project
from .tasks import run_catalogue_import


@role_required(Role.PROVINCE_ADMIN)
def discipline_list(request):
    year, text = request.GET.get("year", ""), request.GET.get("q", "").strip()
    queryset = Discipline.objects.select_related("parent").order_by("-year", "code")
    if year.isdigit():
        queryset = queryset.filter(year=int(year))
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(code__startswith=text))
    page = paginate(request, queryset, 50)
    years = Discipline.objects.order_by("-year").values_list("year", flat=True).distinct()
    return render(request, "projects/discipline_list.html", {"page_obj": page, "years": years, "year": year, "q": text})


@role_required(Role.PROVINCE_ADMIN)
def discipline_edit(request, pk=None):
    instance = get_object_or_404(Discipline, pk=pk) if pk else None
    form = DisciplineForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("学科已保存。"))
        return redirect("projects:discipline_list")
    return render(request, "projects/discipline_form.html", {"form": form, "discipline": instance})


@role_required(Role.PROVINCE_ADMIN)
def project_import(request):
    """Upload a list; a worker checks and imports it (all or nothing) while the page shows its progress."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.request_catalogue_import(
                request.user, form.cleaned_data["file"], entry=form.cleaned_data["entry"], as_of=form.cleaned_data["as_of"]
            )
        except DomainError as error:
            error.add_to(form)
        else:
            enqueue(run_catalogue_import, job.pk)
            return redirect("projects:import_status", job.public_id)
    return render(
        request,
        "projects/import.html",
        {"form": form, "jobs": selectors.recent_imports(request.user), "remote_filed_as_of": selectors.remote_filed_as_of()},
    )


@role_required(Role.PROVINCE_ADMIN)
def import_status(request, public_id):
    job = selectors.get_import(request.user, public_id)
    done, total = services.import_progress(job)
    working = job.state in (ImportState.PENDING, ImportState.RUNNING)
    return render(
        request,
        "projects/import_status.html",
        {
            "job": job,
            "working": working,
            "percent": int(100 * done / total) if total else (0 if working else 100),
        },
    )


@role_required(Role.PROVINCE_ADMIN)
def project_export(request):
    queryset = Project.objects.select_related("discipline", "holding_unit").order_by("-year", "number_key")
    entry = request.GET.get("entry", "")
    if entry not in Entry.values:
        entry = ""
    if entry:
        queryset = queryset.filter(entry=entry)
    return xlsx_file_response(export_projects(queryset), f"projects-{entry or 'all'}-{stamp()}.xlsx")


@role_required(Role.PROVINCE_ADMIN)
def co_organisers(request):
    """Seed 004: each remote-filed project's in-province co-organiser, the unit that reports its credits.

    Exact names were matched at import; for the rest the province confirms one of the close names or types one.
    """
    if request.method == "POST":
        project = selectors.get_remote_filed(request.POST.get("project", ""))
        unit = selectors.unit_in_province(
            request.user, unit_id=request.POST.get("unit", ""), name=request.POST.get("unit_name", "")
        )
        if unit is None:
            messages.error(request, _("没有找到该单位：请从候选中选择，或输入机构列表中的完整名称。"))
        else:
            try:
                services.confirm_co_organiser(project, request.user, unit)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("“%(project)s”的协办单位已确认为%(unit)s。") % {"project": project.name, "unit": unit.name}
                )
        return redirect("projects:co_organisers")
    page = paginate(request, selectors.remote_filed_projects(), 30)
    return render(
        request,
        "projects/co_organisers.html",
        {"page_obj": page, "candidates": selectors.candidate_units(page), "as_of": selectors.remote_filed_as_of()},
    )
