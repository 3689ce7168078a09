"""The unit's batch entry (seed 003 单位统一录入) on a valid form: one path for the request and for the worker
that takes a sheet of more than ``jobs.INLINE_ROWS`` rows (issue 12). All or nothing, as before."""

import tablib
from django.utils.translation import gettext as _

from cme_portal import punctuation
from cme_portal.accounts.validators import mask_id_number, normalise_document_number
from cme_portal.errors import DomainError

from . import selectors, services


def sheet_learners(upload, allowed):
    """Document numbers from the first column of a sheet; (learners, refusals naming rows)."""
    try:
        dataset = tablib.Dataset().load(upload.read(), format="xlsx", headers=False)
    except Exception:
        return [], [_("无法读取名单：请上传 Excel（.xlsx）文件，第一列为证件号。")]
    rows = [(index, normalise_document_number(str(row[0] or ""))) for index, row in enumerate(dataset, start=1)]
    rows = [(index, number) for index, number in rows if number and number not in ("证件号", "身份证号")]
    allowed_ids = {u.id_number: u for u in allowed.filter(id_number__in=[number for _index, number in rows])}
    learners, problems = [], []
    for index, number in rows:
        if number in allowed_ids:
            learners.append(allowed_ids[number])
        else:
            problems.append(
                _("第 %(row)s 行：%(number)s 不是可录入的学员（未注册，或不是本单位学员）")
                % {"row": index, "number": mask_id_number(number)}
            )
    return learners, problems


def enter_batch(user, form):
    """Enter the valid ``form``'s batch; return the entries, or None with the form's errors added."""
    learners = list(form.cleaned_data["learners"])
    problems = []
    if form.cleaned_data.get("sheet"):
        listable = selectors.batch_learners(user, form.cleaned_data.get("activity_number", ""))
        listed, problems = sheet_learners(form.cleaned_data["sheet"], listable)
        learners += [u for u in listed if u not in learners]
    if problems:
        form.add_error("sheet", _("名单有误，未录入任何学分：") + punctuation.mark("；").join(problems))
    elif not learners:
        form.add_error("learners", _("请勾选学员，或上传名单。"))
    else:
        try:
            return services.batch_enter(user, learners, evidence=form.cleaned_data["evidence"], **form.activity_data())
        except DomainError as error:
            error.add_to(form)
    return None


def batch_form(user, data=None, files=None):
    from cme_portal.accounts.models import Role

    from .forms import BatchForm

    return BatchForm(
        data,
        files,
        learner_queryset=selectors.unit_learners(user),
        categories=selectors.entry_categories(user, Role.UNIT_ADMIN),
    )
