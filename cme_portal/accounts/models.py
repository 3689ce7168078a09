"""Accounts: people, their roles, the organisation tree and learner profiles.

Scope (DESIGN.md §3) rests on the organisation tree: every node stores its
materialised path, so a subtree is one indexed ``path LIKE 'prefix%'`` query.
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cme_portal import punctuation


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("地市")
    DISTRICT = "district", _("区县")
    UNIT = "unit", _("单位")
    DEPARTMENT = "department", _("科室")


# Which kinds may sit directly under which (district is optional).
ALLOWED_PARENTS = {
    OrgKind.PROVINCE: set(),
    OrgKind.CITY: {OrgKind.PROVINCE},
    OrgKind.DISTRICT: {OrgKind.CITY},
    OrgKind.UNIT: {OrgKind.PROVINCE, OrgKind.CITY, OrgKind.DISTRICT},
    OrgKind.DEPARTMENT: {OrgKind.UNIT},
}


# Digits and dashes, starting and ending with a digit: 0571-87709012, 028-84470906, 12320, 400-820-1234.
CONTACT_PHONE_PATTERN = r"^[0-9][0-9-]{3,18}[0-9]$"


class OrganisationQuerySet(models.QuerySet):
    def subtree(self, node, include_self=True):
        """Every node under ``node`` (and ``node`` itself), in one query."""
        qs = self.filter(path__startswith=node.path)
        return qs if include_self else qs.exclude(pk=node.pk)

    def units(self):
        return self.filter(kind=OrgKind.UNIT)

    def regions(self):
        return self.filter(kind__in=[OrgKind.CITY, OrgKind.DISTRICT])


class Organisation(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级")
    )
    code = models.CharField(_("代码"), max_length=32, blank=True, help_text=_("行政区划代码或机构代码，可留空"))
    # "000001/000007/000031/": ids from the root down, fixed width so prefixes never collide.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    is_grassroots = models.BooleanField(_("基层单位"), default=False)
    is_tertiary = models.BooleanField(_("省级单位或三级医院"), default=False, help_text=_("其人员须在五年内获得国家级项目学分"))
    # Where people of this node get help (issue 13): shown on every refusal a learner can meet and on the help page.
    contact_phone = models.CharField(
        _("联系电话"), max_length=20, blank=True, default="", help_text=_("数字和短横线，如 0571-87709012")
    )
    office_hours = models.CharField(_("办公时间"), max_length=60, blank=True, default="")
    office_address = models.CharField(_("办公地点"), max_length=100, blank=True, default="")

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=OrgKind.PROVINCE, parent__isnull=True) | (~Q(kind=OrgKind.PROVINCE) & Q(parent__isnull=False)),
                name="org_only_province_is_root",
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="org_unique_name_under_parent"),
            models.CheckConstraint(
                condition=Q(contact_phone="") | Q(contact_phone__regex=CONTACT_PHONE_PATTERN),
                name="org_contact_phone_format",
                violation_error_message=_("联系电话只能包含数字和短横线，5 到 20 位。"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def depth(self):
        return self.path.count("/") - 1

    def clean(self):
        from django.core.exceptions import ValidationError

        allowed = ALLOWED_PARENTS[OrgKind(self.kind)]
        parent_kind = self.parent.kind if self.parent_id else None
        if allowed and parent_kind not in allowed:
            raise ValidationError({"parent": _("%(kind)s 不能挂在这一级之下。") % {"kind": self.get_kind_display()}})
        if self.pk and self.parent_id and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("不能把机构移到它自己的下级之下。")})

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_path = self.path
            if not self.pk:
                super().save(*args, **kwargs)
            new_path = (self.parent.path if self.parent_id else "") + f"{self.pk:06d}/"
            if new_path != self.path:
                self.path = new_path
                kwargs.pop("force_insert", None)
                super().save(update_fields=["path"])
                if old_path:
                    # Moved: rewrite every descendant's prefix in one UPDATE.
                    Organisation.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
                    )
            else:
                super().save(*args, **kwargs)

    def ancestors(self):
        """This node and the nodes above it, root first, in one query."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return Organisation.objects.filter(pk__in=ids).order_by("path")

    @property
    def has_contact(self):
        return bool(self.contact_phone or self.office_address)

    def ancestor_of_kind(self, *kinds):
        for node in reversed(list(self.ancestors())):
            if node.kind in kinds:
                return node
        return None


class Role(models.TextChoices):
    LEARNER = "learner", _("学员")
    ORGANISER = "organiser", _("立项用户")
    UNIT_ADMIN = "unit_admin", _("单位科教科")
    CITY_ADMIN = "city_admin", _("地市继教办")
    PROVINCE_ADMIN = "province_admin", _("省继教办")


# The kind of node each staff role hangs on.
ROLE_NODE_KINDS = {
    Role.ORGANISER: {OrgKind.UNIT, OrgKind.DEPARTMENT},
    Role.UNIT_ADMIN: {OrgKind.UNIT},
    Role.CITY_ADMIN: {OrgKind.CITY, OrgKind.DISTRICT},
    Role.PROVINCE_ADMIN: {OrgKind.PROVINCE},
}


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit", _("港澳台居民居住证")
    MILITARY_ID = "military_id", _("军官证")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: username.strip().upper()})

    def find_by_identifier(self, identifier, *, select_related=()):
        """The account whose document number or mobile number is ``identifier``, or None.
        ``select_related``: what the caller shows of it, loaded in the same query."""
        identifier = (identifier or "").strip()
        if not identifier:
            return None
        found = self.filter(Q(id_number=identifier.upper()) | Q(mobile=identifier))
        return (found.select_related(*select_related) if select_related else found).first()

    def create_user(self, id_number, password=None, **fields):
        user = self.model(id_number=id_number.strip().upper(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, id_number, password=None, **fields):
        fields.setdefault("name", id_number)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(id_number, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The document number is the username; the mobile number also logs in."""

    id_type = models.CharField(_("证件类型"), max_length=24, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID)
    id_number = models.CharField(_("证件号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    mobile = models.CharField(_("手机号码"), max_length=11, unique=True, null=True, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("可进入后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    # An account made for a learner at a check-in desk has no password until
    # its owner claims it by registering with an SMS code.
    claimed = models.BooleanField(_("已认领"), default=True)
    failed_logins = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The language the person last chose with the language switch (blank: the portal's default): e-mail, SMS
    # and certificates drawn for them outside their requests use it (issue 13).
    language = models.CharField(_("语言"), max_length=8, blank=True, default="", editable=False)

    objects = UserManager()

    USERNAME_FIELD = "id_number"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(condition=~Q(id_number=""), name="user_id_number_not_blank"),
            models.CheckConstraint(
                condition=Q(mobile__isnull=True) | Q(mobile__regex=r"^1[3-9][0-9]{9}$"),
                name="user_mobile_format",
                violation_error_message=_("请填写 11 位手机号码。"),
            ),
        ]

    @property
    def preferred_language(self):
        """The language to write to this person in when no request says it."""
        from django.conf import settings

        return self.language or settings.LANGUAGE_CODE

    def __str__(self):
        return self.name or self.id_number

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name

    @property
    def is_locked(self):
        return bool(self.locked_until and self.locked_until > timezone.now())

    # --- roles -------------------------------------------------------------
    def _role_nodes(self):
        """{role: [tree paths of its nodes]} in one query, cached on the instance for the request."""
        if "_role_nodes_cache" not in self.__dict__:
            nodes = {}
            for role, path in RoleAssignment.objects.filter(user=self).values_list("role", "org__path"):
                nodes.setdefault(role, [])
                if path:
                    nodes[role].append(path)
            self.__dict__["_role_nodes_cache"] = nodes
        return self.__dict__["_role_nodes_cache"]

    def role_set(self):
        """The set of roles held."""
        return set(self._role_nodes())

    def has_role(self, role):
        return role in self._role_nodes()

    def scope_nodes(self, role):
        """The organisation nodes this person's ``role`` is attached to."""
        return Organisation.objects.filter(role_assignments__user=self, role_assignments__role=role)

    def role_paths(self, role):
        """Tree paths of the nodes ``role`` is held on."""
        return self._role_nodes().get(role, [])

    def in_scope(self, role, path):
        """Whether the node with tree ``path`` lies under one of this person's ``role`` nodes."""
        return bool(path) and any(path.startswith(prefix) for prefix in self.role_paths(role))

    def scope_q(self, role, path_lookup):
        """A filter keeping rows whose ``path_lookup`` (e.g. "unit__path") is in scope of ``role``."""
        paths = self.role_paths(role)
        if not paths:
            return Q(pk__in=[])
        condition = Q()
        for prefix in paths:
            condition |= Q(**{f"{path_lookup}__startswith": prefix})
        return condition

    def scope(self, role):
        """Every organisation node under this person's ``role`` nodes: one query after the first."""
        return Organisation.objects.filter(self.scope_q(role, "path"))


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name=_("用户"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("所属机构"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "org"], name="role_unique_per_node"),
            models.UniqueConstraint(fields=["user"], condition=Q(role="learner"), name="role_one_learner_role"),
            models.CheckConstraint(condition=Q(role="learner") | Q(org__isnull=False), name="role_staff_has_node"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}" + (f" · {self.org}" if self.org_id else "")

    def clean(self):
        from django.core.exceptions import ValidationError

        kinds = ROLE_NODE_KINDS.get(Role(self.role))
        if kinds and self.org_id and self.org.kind not in kinds:
            raise ValidationError(
                {
                    "org": _("该角色须挂在以下类型的机构上：%(kinds)s")
                    % {"kinds": punctuation.mark("、").join(str(OrgKind(k).label) for k in kinds)}
                }
            )


class Title(models.TextChoices):
    SENIOR = "senior", _("正高级")
    ASSOCIATE = "associate", _("副高级")
    INTERMEDIATE = "intermediate", _("中级")
    JUNIOR = "junior", _("初级（师级）")
    ASSISTANT = "assistant", _("初级（士级）")
    NONE = "none", _("无职称")


class Position(models.TextChoices):
    HOSPITAL_LEADER = "leader", _("院级领导")
    DEPARTMENT_HEAD = "head", _("科室主任/护士长")
    DEPUTY_HEAD = "deputy", _("科室副主任/副护士长")
    STAFF = "staff", _("无行政职务")


class Education(models.TextChoices):
    DOCTORATE = "doctorate", _("博士研究生")
    MASTER = "master", _("硕士研究生")
    BACHELOR = "bachelor", _("大学本科")
    COLLEGE = "college", _("大学专科")
    SECONDARY = "secondary", _("中专")
    OTHER = "other", _("其他")


class StaffCategory(models.TextChoices):
    """Who a compliance rule applies to (DESIGN.md W6)."""

    HEALTH_TECHNICAL = "health_technical", _("卫生技术人员")
    SENIOR_TERTIARY = "senior_tertiary", _("省级单位及三级医院人员")


class LearnerProfile(models.Model):
    """Everything a learner tells us: the W1 registration form and the W3 check-in form."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    # Age as stated at a check-in desk, for learners whose documents carry no birth date.
    declared_age = models.PositiveSmallIntegerField(_("年龄"), null=True, blank=True)
    declared_age_on = models.DateField(null=True, blank=True, editable=False)
    title = models.CharField(_("职称"), max_length=16, choices=Title.choices, blank=True)
    position = models.CharField(_("职务"), max_length=16, choices=Position.choices, blank=True)
    education = models.CharField(_("学历"), max_length=16, choices=Education.choices, blank=True)
    region = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属区域"),
        limit_choices_to={"kind__in": [OrgKind.CITY, OrgKind.DISTRICT]},
    )
    unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="learners",
        verbose_name=_("工作单位"),
        limit_choices_to={"kind": OrgKind.UNIT},
    )
    unit_name = models.CharField(_("工作单位（未列出时填写）"), max_length=100, blank=True)
    department = models.CharField(_("科室"), max_length=50, blank=True)
    unit_location = models.CharField(_("单位所在地"), max_length=50, blank=True)
    grassroots = models.BooleanField(_("是否来自基层"), null=True, blank=True)
    mailing_address = models.CharField(_("通讯地址"), max_length=200, blank=True)
    staff_category = models.CharField(
        _("人员类别"), max_length=20, choices=StaffCategory.choices, default=StaffCategory.HEALTH_TECHNICAL
    )
    # Seed 004: 人员编号 as the province's system prints it on credit certificates; entries must carry the same.
    personnel_number = models.CharField(
        _("人员编号"), max_length=32, blank=True, help_text=_("省继续医学教育系统中的人员编号，学分证上印有此编号")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("学员档案")
        verbose_name_plural = _("学员档案")
        constraints = [
            models.CheckConstraint(
                # A unit is either picked from the tree or typed, never both.
                condition=Q(unit__isnull=True) | Q(unit_name=""),
                name="profile_unit_picked_or_typed",
                violation_error_message=_("工作单位请从列表选择，或在列表中没有时填写名称，二者选一。"),
            ),
        ]
        # The compliance report counts a subtree's learners per unit and staff category from this index alone.
        indexes = [models.Index(fields=["unit", "staff_category"], name="profile_unit_category")]

    def __str__(self):
        return str(self.user)

    @property
    def age(self):
        today = date.today()
        if self.birth_date:
            b = self.birth_date
            return today.year - b.year - ((today.month, today.day) < (b.month, b.day))
        if self.declared_age is not None and self.declared_age_on:
            return self.declared_age + max(0, (today - self.declared_age_on).days) // 365
        return None

    @property
    def unit_display(self):
        return self.unit.name if self.unit_id else self.unit_name

    def missing_fields(self):
        """Labels of the fields a certificate or a review needs that are still blank."""
        missing = []
        if not self.sex:
            missing.append(self._meta.get_field("sex").verbose_name)
        if self.age is None:
            missing.append(self._meta.get_field("birth_date").verbose_name)
        if not self.unit_display:
            missing.append(self._meta.get_field("unit").verbose_name)
        if not self.title:
            missing.append(self._meta.get_field("title").verbose_name)
        return missing


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    RESET_PASSWORD = "reset", _("找回密码")
    DOOR = "door", _("签到登记")
    HANDOVER = "handover", _("账号移交")


class SmsCode(models.Model):
    """One code sent to one mobile number. Only its hash is kept."""

    mobile = models.CharField(max_length=11, db_index=True)
    purpose = models.CharField(max_length=12, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=128)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["mobile", "purpose", "-created_at"], name="sms_lookup")]
        constraints = [models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="sms_expires_after_created")]


class AccountHandover(models.Model):
    """A unit admin gave an account to the real holder of its document number (W9): who, when, from which
    mobile to which, and why. The account goes back to unclaimed, bound to the new, verified mobile."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="handovers")
    from_mobile = models.CharField(_("原手机号"), max_length=11, blank=True)
    to_mobile = models.CharField(_("新手机号"), max_length=11)
    from_name = models.CharField(_("原姓名"), max_length=50, blank=True)
    reason = models.CharField(_("理由"), max_length=200)
    document_checked = models.BooleanField(_("已当面核验证件"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("办理人"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账号移交")
        verbose_name_plural = _("账号移交")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(document_checked=True),
                name="handover_document_checked",
                violation_error_message=_("请先当面核验证件。"),
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="handover_has_reason", violation_error_message=_("请填写移交理由。")
            ),
        ]
