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


class CertificateTemplate(models.Model):
    """One version of a province's certificate design (W7). A saved version is never changed: saving the editor makes
    a new version, and each certificate records the version it was drawn with. The row without a province is the
    portal's default (version 1 is the page as it was before templates existed)."""

    province = models.ForeignKey(
        Organisation, verbose_name=_("省"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("证书标题"), max_length=40, blank=True)
    issuing_body = models.CharField(_("颁发机构"), max_length=60, blank=True)
    frame = models.BooleanField(_("绘制边框"), default=True)
    background = models.FileField(_("背景图"), upload_to="certificate-templates/", max_length=200, blank=True)
    seal = models.FileField(_("印章图"), upload_to="certificate-templates/", max_length=200, blank=True)
    signature = models.FileField(_("签名图"), upload_to="certificate-templates/", max_length=200, blank=True)
    layout = models.JSONField(_("字段位置"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证书模板")
        verbose_name_plural = _("证书模板")
        ordering = ["province_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["province", "version"], name="certificate_template_one_version"),
            models.UniqueConstraint(
                fields=["version"], condition=Q(province__isnull=True), name="certificate_template_one_default_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="certificate_template_version_positive"),
        ]

    def __str__(self):
        return f"{self.province.name if self.province_id else _('默认模板')} v{self.version}"


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
    template = models.ForeignKey(
        CertificateTemplate, verbose_name=_("证书模板"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)

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

    @property
    def credit_line(self):
        """The credit line in the reader's language (issue 13)."""
        from .services import shown_credit_line

        return shown_credit_line(self.snapshot)

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
    force = models.BooleanField(default=False)  # build anyway, leaving out the certificates with missing fields
    left_out = models.JSONField(default=list)
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


class ReissueState(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("重新颁发中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ReissueJob(models.Model):
    """The province admin's request to redraw the province's issued certificates with the current template version."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(CertificateTemplate, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=ReissueState.choices, default=ReissueState.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="reissue_done_within_total"),
            models.UniqueConstraint(
                fields=["province"], condition=Q(state__in=["pending", "running"]), name="one_running_reissue_per_province"
            ),
        ]

    @property
    def percent(self):
        return int(self.done * 100 / self.total) if self.total else 0
