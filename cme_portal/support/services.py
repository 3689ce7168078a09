"""Writes of the help pages: a learner's problem report (问题反馈) reaching the admins who can help."""

import logging

from django.db import transaction
from django.urls import reverse
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
