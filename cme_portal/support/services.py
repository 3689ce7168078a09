"""Writes of the help pages: a learner's problem report (问题反馈) reaching the admins who can help."""

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cme_portal import ratelimit
from cme_portal.errors import DomainError
from cme_portal.notifications.kinds import Kind
from cme_portal.notifications.services import notify
from cme_portal.notifications.text import Text

from . import selectors
from .models import ProblemReport

log = logging.getLogger("cme.support")

# A person with a real problem writes once or twice; these stop a flood of a unit admin's inbox.
REPORTS_PER_HOUR = 5
REPORTS_PER_DAY = 20
SUBJECT_MAX, DESCRIPTION_MIN, DESCRIPTION_MAX, PAGE_URL_MAX = 60, 10, 2000, 300
ANSWER_MIN, ANSWER_MAX = 5, 1000


def clean_page_url(value):
    """The page the problem was met on, as a path of this portal ("/credits/entries/new/"), or ""."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > PAGE_URL_MAX or not value.startswith("/") or value.startswith("//") or any(c in value for c in "\r\n\\"):
        raise DomainError(_("出现问题的页面应为本平台的页面地址，如 /credits/entries/new/。"), "bad_page_url", "page_url")
    return value


def report_problem(*, reporter, subject, description, page_url=""):
    """Keep ``reporter``'s problem and tell the admins who can help (``selectors.report_destination``) in their
    inbox, each once. Returns the ProblemReport.

    Raises DomainError when the subject or description is empty or too long, the page is not one of the
    portal's, or the reporter sent more than REPORTS_PER_HOUR reports in an hour (REPORTS_PER_DAY a day).
    """
    subject, description = (subject or "").strip(), (description or "").strip()
    if not subject or len(subject) > SUBJECT_MAX:
        raise DomainError(_("请用 60 字以内概括遇到的问题。"), "bad_subject", "subject")
    if len(description) < DESCRIPTION_MIN or len(description) > DESCRIPTION_MAX:
        raise DomainError(
            _("请用 10 到 2000 字描述问题：在哪个页面、做了什么、看到了什么提示。"), "bad_description", "description"
        )
    page_url = clean_page_url(page_url)
    if not (
        ratelimit.hit("problem-report-hour", reporter.pk, limit=REPORTS_PER_HOUR, period=3600)
        and ratelimit.hit("problem-report-day", reporter.pk, limit=REPORTS_PER_DAY, period=86400)
    ):
        raise DomainError(_("您反馈得太频繁了，请稍后再试；紧急问题请直接拨打页面上的联系电话。"), "too_many_reports")
    node, admins = selectors.report_destination(reporter)
    if node is None:
        raise DomainError(_("平台尚未设置受理机构，请稍后再试。"), "no_destination")
    with transaction.atomic():
        report = ProblemReport.objects.create(
            reporter=reporter, org=node, subject=subject, description=description, page_url=page_url
        )
        link = reverse("support:report_detail", args=[report.pk])
        # Kept as msgid + parameters: each admin reads it in their own language (cme_portal/notifications/text.py).
        message = Text(gettext_noop("%(name)s 反馈问题：%(subject)s"), name=reporter.name, subject=subject)
        for admin in admins:
            notify(admin, Kind.PROBLEM_REPORTED, message, link, key=f"problem:{report.pk}")
    log.info(
        "problem_reported",
        extra={"report_id": report.pk, "user_id": reporter.pk, "org_id": node.pk, "told": [a.pk for a in admins]},
    )
    return report


def answer_report(*, user, pk, answer):
    """An admin in scope of the office a report went to answers it (答复), once; the reporter is told in their
    inbox (and by e-mail or SMS as they chose). Returns the ProblemReport.

    Raises Http404 outside the admin's scope (``selectors.get_answerable_report``), and DomainError for an answer
    shorter than ANSWER_MIN or longer than ANSWER_MAX characters, or a report already answered (two admins of a
    unit answering at once: the second is told who answered first, under the row's lock).
    """
    answer = (answer or "").strip()
    if len(answer) < ANSWER_MIN or len(answer) > ANSWER_MAX:
        raise DomainError(_("请用 5 到 1000 字答复：问题的原因、已做的处理或学员下一步该怎么做。"), "bad_answer", "answer")
    with transaction.atomic():
        report = selectors.get_answerable_report(user, pk, lock=True)
        if report.answered:
            by = report.answered_by.name if report.answered_by else _("其他管理员")
            raise DomainError(_("该反馈已由 %(name)s 答复，无需重复答复。") % {"name": by}, "already_answered")
        report.answer, report.answered_by, report.answered_at = answer, user, timezone.now()
        report.save(update_fields=["answer", "answered_by", "answered_at"])
        message = Text(gettext_noop("您的问题反馈“%(subject)s”已答复"), subject=report.subject)
        link = reverse("support:report_detail", args=[report.pk])
        notify(report.reporter, Kind.PROBLEM_ANSWERED, message, link, key=f"problem-answer:{report.pk}")
    log.info("problem_answered", extra={"report_id": report.pk, "user_id": user.pk, "org_id": report.org_id})
    return report
