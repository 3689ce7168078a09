"""Account operations: SMS codes, registration, login attempts, password reset, profile.

Views, the check-in desk (attendance) and tests call these; each raises
DomainError with a message that tells the person what to do next.
"""

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from cme_portal import ratelimit
from cme_portal.cache import cache_is_shared
from cme_portal.digits import ascii_code
from cme_portal.errors import DomainError
from cme_portal.queueing import enqueue

from .models import CONTACT_PHONE_PATTERN, LearnerProfile, Role, RoleAssignment, SmsCode, SmsPurpose, User
from .tasks import send_sms
from .validators import mask_id_number, mask_mobile, normalise_document_number

log = logging.getLogger("cme.accounts")

log = logging.getLogger(__name__)

# Sent after a learner's printed fields change; certificates re-render on it.
profile_changed = Signal()
# Sent when an admin hands an account over to the real holder of its document number (the inbox tells them).
account_handed_over = Signal()


# --- SMS codes ---------------------------------------------------------------


def _hash_code(mobile, purpose, code):
    message = f"{mobile}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def send_sms_code(mobile, purpose, client_ip=None, per_address_limit=True):
    """Create a code for ``mobile`` and send it by SMS after commit; return the code.

    Raises DomainError when the number asked too recently or too often today,
    or the client address asked too often this hour (unless ``per_address_limit``
    is off: the door keeps its own limits, per phone, for a hall behind one address).
    """
    now = timezone.now()
    recent = SmsCode.objects.filter(mobile=mobile, created_at__gte=now - timedelta(days=1))
    # The minute between two codes is per purpose: a reset asked right after registering is not "already sent".
    last = recent.filter(purpose=purpose).order_by("-created_at").first()
    if last and (now - last.created_at).total_seconds() < settings.SMS_RESEND_SECONDS:
        wait = settings.SMS_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise DomainError(_("验证码已发送，请 %(seconds)s 秒后再重新获取。") % {"seconds": wait}, code="sms_too_soon")
    if recent.count() >= settings.SMS_MAX_PER_NUMBER_PER_DAY:
        raise DomainError(_("该手机号今天获取验证码的次数已达上限，请明天再试。"), code="sms_number_limit")
    if (
        client_ip
        and per_address_limit
        and SmsCode.objects.filter(client_ip=client_ip, created_at__gte=now - timedelta(hours=1)).count()
        >= settings.SMS_MAX_PER_ADDRESS_PER_HOUR
    ):
        raise DomainError(_("当前网络获取验证码过于频繁，请一小时后再试。"), code="sms_address_limit")

    # The counts above give precise messages; these atomic gates in the shared cache stop
    # parallel requests that all passed them at once.
    if not cache_is_shared():
        raise DomainError(_("短信服务暂时不可用，请几分钟后再获取验证码。"), code="sms_unavailable")
    if not ratelimit.hit("sms-number", f"{mobile}:{purpose}", limit=1, period=settings.SMS_RESEND_SECONDS, on_outage="closed"):
        raise DomainError(_("验证码已发送，请稍后再重新获取。"), code="sms_too_soon")
    if (
        client_ip
        and per_address_limit
        and not ratelimit.hit(
            "sms-address", client_ip, limit=settings.SMS_MAX_PER_ADDRESS_PER_HOUR, period=3600, on_outage="closed"
        )
    ):
        raise DomainError(_("当前网络获取验证码过于频繁，请一小时后再试。"), code="sms_address_limit")
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        mobile=mobile,
        purpose=purpose,
        code_hash=_hash_code(mobile, purpose, code),
        client_ip=client_ip,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
    message = _("【继续医学教育】您的验证码为 %(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略。") % {
        "code": code,
        "minutes": minutes,
    }
    if enqueue(send_sms, mobile, message, quiet=True) is False:
        # Not queued (the broker is away and we are outside a transaction, so we know now): no code was sent.
        SmsCode.objects.filter(mobile=mobile, created_at=now, purpose=purpose).delete()
        raise DomainError(_("短信服务暂时不可用，请几分钟后再获取验证码。"), code="sms_unavailable")
    return code


def verify_sms_code(mobile, purpose, code):
    """Consume the newest unused code for ``mobile``; raise DomainError if it does not match.

    Each wrong guess counts, and the count is committed before the refusal is
    raised, so call this outside any surrounding transaction. After
    SMS_CODE_MAX_ATTEMPTS wrong guesses the code is dead.
    """
    code = (code or "").strip()
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(mobile=mobile, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if sms is None:
            raise DomainError(_("请先获取短信验证码。"), code="sms_missing", field="sms_code")
        if sms.expires_at <= timezone.now():
            raise DomainError(_("短信验证码已过期，请重新获取。"), code="sms_expired", field="sms_code")
        if sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            raise DomainError(_("验证码错误次数过多，请重新获取。"), code="sms_attempts", field="sms_code")
        matched = hmac.compare_digest(sms.code_hash, _hash_code(mobile, purpose, code))
        if matched:
            sms.used_at = timezone.now()
            sms.save(update_fields=["used_at"])
        else:
            SmsCode.objects.filter(pk=sms.pk).update(attempts=F("attempts") + 1)
    if not matched:
        raise DomainError(_("短信验证码不正确，请核对后重新输入。"), code="sms_wrong", field="sms_code")


# --- Registration ------------------------------------------------------------

PROFILE_FIELDS = (
    "birth_date",
    "sex",
    "title",
    "position",
    "education",
    "region",
    "unit",
    "unit_name",
    "department",
    "unit_location",
    "grassroots",
    "mailing_address",
    "personnel_number",
)


def registration_conflict(id_number, mobile):
    """The reason a new account for this document and mobile cannot be opened, or None.

    An unclaimed account (opened at a check-in desk) with the same document
    number is not a conflict: registering claims it.
    """
    existing = User.objects.filter(id_number=id_number).first()
    if existing and existing.claimed:
        return DomainError(_("该证件号已注册。请直接登录；如忘记密码，请使用“找回密码”。"), code="id_taken", field="id_number")
    if existing and existing.mobile and existing.mobile != mobile:
        # An account opened at a check-in desk is claimed only through the mobile it was opened with.
        return DomainError(
            _(
                "该证件号已在签到时登记，绑定手机号 %(mobile)s，只能用这个手机号注册认领。"
                "如果这不是您的手机号（有人用您的证件号登记了账号），请携带本人身份证件到所在单位科教科办理账号移交。"
            )
            % {"mobile": mask_mobile(existing.mobile)},
            code="claim_mobile",
            field="mobile",
        )
    owner = User.objects.filter(mobile=mobile).exclude(pk=existing.pk if existing else None).first()
    if owner:
        return DomainError(
            _("手机号已存在：该手机号已绑定其他账号。请换一个手机号，或用该手机号登录、找回密码。"),
            code="mobile_taken",
            field="mobile",
        )
    return None


def register_learner(*, id_type, id_number, name, mobile, password, sms_code, email="", **profile):
    """Open (or claim) a learner account after checking the SMS code; return the user.

    Raises DomainError for a taken document or mobile number or a bad code.
    """
    conflict = registration_conflict(id_number, mobile)
    if conflict:
        raise conflict
    verify_sms_code(mobile, SmsPurpose.REGISTER, sms_code)
    with transaction.atomic():
        return _open_account(id_type, id_number, name, mobile, password, email, profile)


def _open_account(id_type, id_number, name, mobile, password, email, profile):
    user = User.objects.select_for_update().filter(id_number=id_number).first() or User(id_number=id_number)
    user.id_type = id_type
    user.name = name
    user.mobile = mobile
    user.email = email
    user.claimed = True
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Someone registered the same number between our check and our insert.
        raise registration_conflict(id_number, mobile) or DomainError(_("注册失败，请重试。"), code="conflict")
    profile_obj, _created = LearnerProfile.objects.get_or_create(user=user)
    for field in PROFILE_FIELDS:
        if field in profile:
            setattr(profile_obj, field, profile[field])
    profile_obj.save()
    RoleAssignment.objects.update_or_create(user=user, role=Role.LEARNER, defaults={"org": profile_obj.unit})
    return user


# --- Login -------------------------------------------------------------------


def login_needs_captcha(client_ip):
    return ratelimit.count("login-fail", client_ip) >= settings.LOGIN_CAPTCHA_AFTER


def _login_subject(identifier, user=None):
    """Whom a login attempt aims at: the account when one answers to ``identifier``, else the typed
    identifier itself, so unknown and existing accounts are counted (and answered) alike."""
    user = user if user is not None else User.objects.find_by_identifier(identifier)
    if user is not None:
        return f"u{user.pk}"
    typed = (identifier or "").strip().upper().encode()
    return "n" + hashlib.sha256(typed).hexdigest()[:24]


def _pair(subject, client_ip):
    # The generation changes when the owner resets the password by SMS: every lock on the account ends.
    return f"{subject}:{ratelimit.count('login-generation', subject)}:{client_ip}"


def account_needs_captcha(identifier):
    """The slower global back-off: an account failed from many addresses asks everyone for a captcha
    (a stranger can slow the owner down, never lock them out)."""
    return ratelimit.count("login-account", _login_subject(identifier)) >= settings.LOGIN_ACCOUNT_CAPTCHA_AFTER


def check_login(identifier, password, client_ip):
    """Authenticate by document or mobile number; count failures per account and address.

    Returns the user. Raises DomainError with one message for an unknown account and a wrong password
    (nothing tells whether an account exists), and a lock message after LOGIN_MAX_FAILURES failures of
    this account from this address within LOGIN_LOCKOUT_MINUTES: the lock holds for that address only,
    so a stranger cannot lock the owner out, and a reset by SMS ends it. A disabled account is named
    only to someone who knows its password.
    """
    from django.contrib.auth import authenticate

    user = User.objects.find_by_identifier(identifier)
    subject = _login_subject(identifier, user)
    pair = _pair(subject, client_ip)
    if ratelimit.count("login-pair", pair) >= settings.LOGIN_MAX_FAILURES:
        raise DomainError(
            _("该账号在当前网络的密码错误次数过多，请 %(minutes)s 分钟后再试，或使用“找回密码”立即重设。")
            % {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
            code="locked",
        )
    authenticated = authenticate(username=identifier, password=password)
    if authenticated is not None:
        # The address's failure count is kept: logging into one's own account between
        # guesses must not switch the captcha off.
        ratelimit.reset("login-pair", pair)
        return authenticated

    ratelimit.hit("login-fail", client_ip, limit=10**6, period=3600)
    ratelimit.hit("login-pair", pair, limit=10**6, period=settings.LOGIN_LOCKOUT_MINUTES * 60)
    ratelimit.hit("login-account", subject, limit=10**6, period=3600)
    if user is not None and not user.is_active and user.check_password(password):
        raise DomainError(_("该账号已停用，请联系所在单位科教科。"), code="inactive")
    raise DomainError(
        _("证件号/手机号或密码不正确。签到时自动创建的账号请先“注册”认领；忘记密码请使用“找回密码”。"),
        code="bad_credentials",
    )


# --- Password reset ----------------------------------------------------------


def request_password_reset(identifier, client_ip):
    """Send a reset code to the mobile of the account ``identifier`` names.

    Answers the same way whether or not the account exists (no enumeration): every request counts
    against the address alike, and a refusal that only an existing number can meet (asked again
    within a minute, the day's limit) is logged, not shown. Returns the code when one was sent, for
    tests and development display. Raises DomainError only on the address's limit.
    """
    if not ratelimit.hit("reset-address", client_ip, limit=settings.SMS_MAX_PER_ADDRESS_PER_HOUR, period=3600):
        raise DomainError(_("当前网络获取验证码过于频繁，请一小时后再试。"), code="sms_address_limit")
    user = User.objects.find_by_identifier(identifier)
    if not user or not user.mobile or not user.is_active:
        return None
    try:
        return send_sms_code(user.mobile, SmsPurpose.RESET_PASSWORD)
    except DomainError as refusal:
        log.info("reset_code_not_sent", extra={"user_id": user.pk, "reason": refusal.code})
        return None


def reset_password(identifier, sms_code, new_password):
    """Set a new password after the SMS code checks out; unlock the account.

    Raises DomainError for an unknown account or a bad code (same message).
    """
    user = User.objects.find_by_identifier(identifier)
    if not user or not user.mobile:
        raise DomainError(_("短信验证码不正确，请核对后重新输入。"), code="sms_wrong", field="sms_code")
    verify_sms_code(user.mobile, SmsPurpose.RESET_PASSWORD, sms_code)
    user.set_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["password", "failed_logins", "locked_until"])
    # The owner proved the mobile: every lock and back-off on the account ends, from every address.
    subject = _login_subject(identifier, user)
    ratelimit.hit("login-generation", subject, limit=10**6, period=30 * 24 * 3600)
    ratelimit.reset("login-account", subject)
    return user


# --- Profile -----------------------------------------------------------------


@transaction.atomic
def update_profile(user, **fields):
    """Save the learner's own profile fields; return the profile.

    Fields the document number fixes (birth date and sex of a resident ID)
    are not taken from the form.
    """
    profile, _created = LearnerProfile.objects.select_for_update().get_or_create(user=user)
    before = (profile.sex, profile.age, profile.unit_id, profile.unit_name)
    for field in PROFILE_FIELDS:
        if field in fields:
            setattr(profile, field, fields[field])
    profile.save()
    if (profile.sex, profile.age, profile.unit_id, profile.unit_name) != before:
        # Printed fields changed (seed 000: a blank sex or age is completed): certificates follow.
        profile_changed.send(sender=LearnerProfile, user_id=user.pk)
    if "email" in fields:
        User.objects.filter(pk=user.pk).update(email=fields["email"])
    # Whoever keeps a learner profile is a learner, attached to their unit.
    RoleAssignment.objects.update_or_create(user=user, role=Role.LEARNER, defaults={"org": profile.unit})
    return profile


# --- Hand-over of an account to the real holder of its document number (W9) ---------------


def handover_candidate(admin, id_number):
    """The account ``admin`` may hand over: a province admin any but their own; a unit or city admin a learner's
    account (no other role) of a unit in their scope. Everything else — staff accounts, accounts of other units,
    door accounts whose unit lies elsewhere — goes to the province. Raises DomainError naming whom to ask."""
    user = User.objects.filter(id_number=normalise_document_number(id_number or "")).select_related("profile__unit").first()
    if user is None:
        raise DomainError(_("没有找到该证件号的账号：本人可直接注册。"), code="unknown", field="id_number")
    if admin.pk == user.pk:
        raise DomainError(_("不能为自己办理账号移交，请联系上级管理员。"), code="self", field="id_number")
    if admin.has_role(Role.PROVINCE_ADMIN):
        return user
    unit = getattr(getattr(user, "profile", None), "unit", None)
    in_scope = unit is not None and (admin.in_scope(Role.UNIT_ADMIN, unit.path) or admin.in_scope(Role.CITY_ADMIN, unit.path))
    if in_scope and user.role_set() <= {Role.LEARNER}:
        return user
    if in_scope:
        raise DomainError(_("该账号还担任管理或立项角色，只能由省继教办办理移交。"), code="staff_account", field="id_number")
    raise DomainError(
        _("该账号属于%(unit)s：请由该单位科教科或省继教办办理移交。") % {"unit": unit.name if unit else _("其他单位")},
        code="out_of_scope",
        field="id_number",
    )


def send_handover_code(*, admin, id_number, new_mobile, client_ip=None):
    """Send the code the real holder reads from their own phone at the admin's desk; return it."""
    user = handover_candidate(admin, id_number)
    if User.objects.filter(mobile=new_mobile).exclude(pk=user.pk).exists():
        raise DomainError(_("该手机号已绑定其他账号，请换一个手机号。"), code="mobile_taken", field="new_mobile")
    return send_sms_code(new_mobile, SmsPurpose.HANDOVER, client_ip)


def hand_over_account(*, admin, id_number, new_mobile, sms_code, reason, document_checked, name=""):
    """Give the account to the person standing at the admin's desk with their identity document.

    The account is bound to the new mobile (verified by the code just sent to it), goes back to unclaimed
    with no usable password — whoever held it is signed out — and the holder claims it by registering with
    that mobile. The hand-over is recorded (AccountHandover) and the old mobile is told. Raises DomainError
    when the document was not checked, no reason is given, the mobile is taken or the code is wrong.
    """
    from .models import AccountHandover

    reason = (reason or "").strip()
    if not document_checked:
        raise DomainError(_("请先当面核验本人身份证件，并勾选确认。"), code="document_unchecked", field="document_checked")
    if not reason:
        raise DomainError(_("请填写移交理由。"), code="reason_required", field="reason")
    user = handover_candidate(admin, id_number)
    if User.objects.filter(mobile=new_mobile).exclude(pk=user.pk).exists():
        raise DomainError(_("该手机号已绑定其他账号，请换一个手机号。"), code="mobile_taken", field="new_mobile")
    verify_sms_code(new_mobile, SmsPurpose.HANDOVER, sms_code)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        handover = AccountHandover.objects.create(
            user=user,
            from_mobile=user.mobile or "",
            to_mobile=new_mobile,
            from_name=user.name,
            reason=reason,
            document_checked=True,
            by=admin,
        )
        user.mobile = new_mobile
        if name.strip():
            user.name = name.strip()
        user.claimed = False
        user.set_unusable_password()
        user.failed_logins, user.locked_until = 0, None
        user.save()
        if handover.from_mobile and handover.from_mobile != new_mobile:
            send_sms.delay_on_commit(
                handover.from_mobile,
                _(
                    "【继续医学教育】证件号 %(id)s 的账号已由单位科教科核验本人证件后移交本人，本手机号不再绑定该账号。如有疑问请联系所在单位科教科。"
                )
                % {"id": mask_id_number(user.id_number)},
            )
        account_handed_over.send(sender=User, handover=handover)
    log.info("account_handed_over", extra={"user_id": user.pk, "actor_id": admin.pk, "handover_id": handover.pk})
    return handover


# --- Contacts of organisation nodes (issue 13) --------------------------------------------------------


def clean_contact_phone(phone):
    """The office phone as stored (spaces and full-width digits folded), or DomainError saying what is wrong."""
    phone = ascii_code(phone or "").replace(" ", "").replace("－", "-").replace("—", "-")
    if not phone:
        return ""
    digits = phone.replace("-", "")
    if not re.fullmatch(CONTACT_PHONE_PATTERN, phone) or "--" in phone or not digits.isdigit():
        raise DomainError(_("联系电话只能包含数字和短横线，如 0571-87709012。"), "contact_phone_format", "contact_phone")
    if not 5 <= len(digits) <= 16:
        raise DomainError(_("联系电话应为 5 到 16 位数字（可含区号和短横线）。"), "contact_phone_length", "contact_phone")
    return phone


@transaction.atomic
def update_contact(node, *, by, contact_phone, office_hours, office_address):
    """Save the contact of ``node`` (loaded in scope by ``selectors.get_contact_node``); return the node.

    Raises DomainError for a phone that is not digits and dashes or has too few or too many digits, and for
    an office or hours text too long. The change is in the audit log (Organisation is tracked).
    """
    office_hours, office_address = (office_hours or "").strip(), (office_address or "").strip()
    if len(office_hours) > 60:
        raise DomainError(_("办公时间最多 60 个字。"), "office_hours_length", "office_hours")
    if len(office_address) > 100:
        raise DomainError(_("办公地点最多 100 个字。"), "office_address_length", "office_address")
    node.contact_phone = clean_contact_phone(contact_phone)
    node.office_hours, node.office_address = office_hours, office_address
    node.save(update_fields=["contact_phone", "office_hours", "office_address"])
    log.info("contact_updated", extra={"org_id": node.pk, "actor_id": by.pk})
    return node
