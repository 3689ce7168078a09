"""Problems learners report (问题反馈, issue 13): kept so the unit's science office can read them in full."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProblemReport(models.Model):
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problem_reports", verbose_name=_("反馈人")
    )
    # The node whose admins were told: the reporter's unit, or the province when they have none.
    org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="problem_reports", verbose_name=_("受理机构")
    )
    subject = models.CharField(_("问题概要"), max_length=60)
    description = models.TextField(_("问题描述"), max_length=2000)
    page_url = models.CharField(_("出现问题的页面"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    # The office's answer (答复), written once by an admin in scope; the reporter is told of it.
    answer = models.TextField(_("答复"), max_length=1000, blank=True, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复人"),
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("问题反馈")
        verbose_name_plural = _("问题反馈")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(subject="") & ~Q(description=""), name="problem_report_not_blank"),
            # Answered means an answer with its time; unanswered means neither (nor who answered).
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answered_by__isnull=True, answer="")
                | (Q(answered_at__isnull=False) & ~Q(answer="")),
                name="problem_report_answer_whole",
            ),
        ]

    def __str__(self):
        return self.subject

    @property
    def answered(self):
        return self.answered_at is not None
