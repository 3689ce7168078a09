"""The help pages (帮助): task guides per role, contacts, the problem report, and the admins' contact editor."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cme_portal.accounts import selectors as account_selectors
from cme_portal.accounts import services as account_services
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError
from cme_portal.pagination import paginate

from . import selectors, services
from .forms import AnswerForm, ContactForm, ProblemReportForm

ADMIN_ROLES = selectors.ADMIN_ROLES


def help_page(request):
    """Everyone's help: the guides of the roles held (the own role's first; anonymous: the learner's),
    the office that helps this person, and the province's and cities' offices."""
    user = request.user
    own = account_selectors.contact_for(learner=user) if user.is_authenticated else None
    return render(
        request,
        "support/help.html",
        {
            "sections": selectors.guides_for(user),
            "own_contact": own,
            "contacts": [node for node in account_selectors.public_contacts() if own is None or node.pk != own.pk],
            "can_edit_contacts": selectors.is_admin(user),
            "has_reports": user.is_authenticated and selectors.visible_reports(user).exists(),
        },
    )


def _referring_path(request):
    """The portal page the person came from (its path and query), or "" for another site or none."""
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if not referer.path or referer.netloc != request.get_host():
        return ""
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return "" if path.startswith("/help/") else path[: services.PAGE_URL_MAX]


@role_required(Role.LEARNER)
def report_new(request):
    """问题反馈: the learner writes what went wrong; it reaches their unit's science office's inbox."""
    form = ProblemReportForm(request.POST or None, initial={"page_url": _referring_path(request)})
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_problem(reporter=request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(
                request, _("已收到您的反馈，%(office)s 会在消息通知中看到并与您联系。") % {"office": report.org.name}
            )
            return redirect("support:help")
    destination, _admins = selectors.report_destination(request.user)
    return render(request, "support/report_form.html", {"form": form, "destination": destination})


@login_required
def reports(request):
    """问题反馈记录: an admin's list of the reports sent to the offices in their scope; a learner's own."""
    found = selectors.report_list(request.user, filters=request.GET)
    return render(
        request,
        "support/reports.html",
        {"filter": found, "page_obj": paginate(request, found.qs, 20), "is_admin": selectors.is_admin(request.user)},
    )


@login_required
def report_detail(request, pk):
    """A report, its answer, and (for an admin in scope while it is unanswered) the form to answer it."""
    report = selectors.get_report(request.user, pk)
    form = None
    if selectors.can_answer(request.user, report):
        form = AnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.answer_report(user=request.user, pk=report.pk, answer=form.cleaned_data["answer"])
            except DomainError as error:
                error.add_to(form)
            else:
                messages.success(request, _("已答复，%(name)s 会在消息通知中看到。") % {"name": report.reporter.name})
                return redirect("support:report_detail", report.pk)
    elif request.method == "POST":
        messages.info(request, _("该反馈已答复，或不由您答复。"))
        return redirect("support:report_detail", report.pk)
    return render(request, "support/report_detail.html", {"report": report, "form": form})


@role_required(*ADMIN_ROLES)
def contacts(request):
    """The nodes whose contact this admin keeps: the province any, a city its subtree, a unit admin their unit."""
    nodes = account_selectors.contact_nodes(request.user)
    query = request.GET.get("q", "").strip()[:50]
    if query:
        nodes = nodes.filter(name__icontains=query)
    return render(request, "support/contacts.html", {"page_obj": paginate(request, nodes, 20), "q": query})


@role_required(*ADMIN_ROLES)
def contact_edit(request, pk):
    node = account_selectors.get_contact_node(request.user, pk)
    form = ContactForm(request.POST or None, instance=node)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.update_contact(
                account_selectors.get_contact_node(request.user, pk), by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("%(name)s 的联系方式已保存。") % {"name": node.name})
            return redirect("support:contacts")
    return render(request, "support/contact_form.html", {"form": form, "node": node})
