"""The learner's credit record (学分登记表): choose the years, download the PDF; its public verify page."""

import io
from datetime import date

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import User
from cme_portal.accounts.selectors import profile_of
from cme_portal.accounts.validators import mask_id_number
from cme_portal.errors import DomainError
from cme_portal.queueing import enqueue

from . import record
from .tasks import render_credit_record


def _years():
    today = date.today().year
    return [(y, str(y)) for y in range(today, today - record.MAX_YEARS - 10, -1)]


class RecordForm(forms.Form):
    first = forms.TypedChoiceField(label=_("起始年度"), coerce=int, choices=_years)
    last = forms.TypedChoiceField(label=_("截止年度"), coerce=int, choices=_years)

    def clean(self):
        data = super().clean()
        if "first" in data and "last" in data:
            try:
                data["first"], data["last"] = record.check_years(data["first"], data["last"])
            except DomainError as error:
                error.add_to(self)
        return data


def _filename(first, last):
    return f"credit-record-{first}-{last}.pdf"


@login_required
def my_record(request):
    """Small records are drawn in the request; large ones (many rows) by a worker, then fetched from the job page."""
    today = date.today().year
    form = RecordForm(request.GET or None, initial={"first": today - 4, "last": today})
    if request.GET and form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        if record.effective_rows(request.user, first, last).count() > record.INLINE_ROWS:
            token = record.job_token(request.user, first, last)
            job = record.signing.loads(token, salt=record.JOB_SALT)
            enqueue(render_credit_record, request.user.pk, first, last, job["k"])
            return redirect("credits:record_job", token)
        pdf, _rows, _totals = record.render(request.user, first, last)
        return FileResponse(io.BytesIO(pdf), content_type="application/pdf", as_attachment=True, filename=_filename(first, last))
    return render(request, "credits/record_form.html", {"form": form})


@login_required
def record_job(request, token):
    """A large record's page: "being prepared" until the worker has stored it, then the PDF. Only its learner's."""
    job = record.job_of(token, request.user)
    if job is None:
        raise Http404
    path = record.job_path(job["key"])
    if default_storage.exists(path):
        return FileResponse(default_storage.open(path, "rb"), as_attachment=True, filename=_filename(job["first"], job["last"]))
    return render(request, "credits/record_status.html", {"job": job})


def record_verify(request, token):
    """Public: was this record issued by the portal, and does the ledger still say what it listed?"""
    facts = record.unsign(token)
    learner = User.objects.filter(pk=facts["user_id"]).first() if facts else None
    if learner is None:
        return render(request, "credits/record_verify.html", {"valid": False}, status=404)
    rows = list(record.effective_rows(learner, facts["first"], facts["last"]))
    profile = profile_of(learner)
    return render(
        request,
        "credits/record_verify.html",
        {
            "valid": True,
            "facts": facts,
            "unchanged": record.digest(rows) == facts["digest"],
            "name": learner.name,
            "id_number": mask_id_number(learner.id_number),
            "unit": (profile.unit.name if profile and profile.unit else profile.unit_name if profile else "") or "—",
            "rows": len(rows),
            "totals": record.year_totals(learner, profile, facts["first"], facts["last"]),
        },
    )
