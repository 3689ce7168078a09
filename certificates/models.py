"""Certificates (W7): one per award, a snapshot of every printed field, the PDF, a status.

Anyone verifies a certificate by the short unguessable code in its QR code;
a revoked one verifies as revoked.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand


def new_code():
    """Ten characters from 31: about 50 bits, unguessable by the rate-limited verify page."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


class CertificateStatus(models.TextChoices):
    ISSUED = "issued", _("有效")
    REVOKED = "revoked", _("已撤销")


class Certificate(models.Model):
    record = models.OneToOneField("credits.CreditRecord", on_delete=models.PROTECT, related_name="certificate")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(_("证书编号"), max_length=24, unique=True, null=True, blank=True)
    code = models.CharField(_("验证码"), max_length=16, unique=True, default=new_code)
    snapshot = models.JSONField(_("证书内容"), default=dict)
    file = models.FileField(upload_to="certificates/%Y/", max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.ISSUED)
    issued_at = models.DateTimeField(_("颁发时间"), auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    render_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("学分证书")
        verbose_name_plural = _("学分证书")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="issued", revoked_at__isnull=True)
                | (Q(status="revoked", revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="certificate_revocation_has_date_and_reason",
            ),
        ]

    def __str__(self):
        return self.number or str(self.pk)

    @property
    def verify_url(self):
        return f"{settings.PORTAL_BASE_URL}{reverse('certificates:verify', args=[self.code])}"


class BulkState(models.TextChoices):
    PENDING = "pending", _("排队中")
    CHECKING = "checking", _("检查中")
    BUILDING = "building", _("打包中")
    READY = "ready", _("可下载")
    FAILED = "failed", _("有缺项")


class BulkDownload(models.Model):
    """A unit admin's ZIP of certificates, built in the background with progress; it expires."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey("projects.Session", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=BulkState.choices, default=BulkState.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)
    file = models.FileField(upload_to="bulk/", max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(session__isnull=False) | Q(year__isnull=False), name="bulk_has_a_subject")
        ]

    @property
    def percent(self):
        return int(self.done * 100 / self.total) if self.total else 0
