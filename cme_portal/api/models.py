"""API tokens for the platforms' feeds and the units' systems, and the record of every call (DESIGN.md §6).

A token is shown once, when it is made; only its SHA-256 is kept (it is 32 random bytes, so a fast hash is
enough: nobody can guess one to test against it). A platform token belongs to one platform of the
province's catalogue; a unit token reads one node of the tree and what lies under it.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cme_portal.accounts.models import Organisation


class TokenKind(models.TextChoices):
    PLATFORM = "platform", _("平台学分推送")
    UNIT = "unit", _("单位系统只读")


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=TokenKind.choices)
    name = models.CharField(_("用途说明"), max_length=100)
    platform = models.ForeignKey(
        "credits.Platform", on_delete=models.PROTECT, null=True, blank=True, related_name="api_tokens", verbose_name=_("平台")
    )
    org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="api_tokens", verbose_name=_("可读范围")
    )
    # The province's decision: this unit's system may see full document and mobile numbers.
    include_personal = models.BooleanField(_("可见完整证件号和手机号"), default=False)
    prefix = models.CharField(_("令牌前缀"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("替换的令牌")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("停用人")
    )

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="platform", platform__isnull=False, org__isnull=True, include_personal=False))
                | Q(kind="unit", platform__isnull=True, org__isnull=False),
                name="api_token_scope_fits_kind",
                violation_error_message=_("平台令牌须选择平台，单位令牌须选择机构。"),
            ),
        ]

    def __str__(self):
        return f"{self.prefix}… {self.name}"

    @property
    def active(self):
        return self.revoked_at is None

    @property
    def scope_label(self):
        return str(self.platform if self.kind == TokenKind.PLATFORM else self.org)


class ApiCall(models.Model):
    """One call to the API by a token: who, what, how it ended and how many records it carried."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="calls", verbose_name=_("令牌"))
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("地址"), max_length=200)
    operation = models.CharField(_("操作"), max_length=64, blank=True)
    status = models.PositiveSmallIntegerField(_("状态码"))
    records = models.PositiveIntegerField(_("记录数"), default=0)
    imported = models.PositiveIntegerField(_("导入"), default=0)
    skipped = models.PositiveIntegerField(_("跳过"), default=0)
    refused = models.PositiveIntegerField(_("拒绝"), default=0)
    client_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["token", "-created_at"], name="api_call_token_time")]
