from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal import ratelimit
from cme_portal.errors import DomainError
from cme_portal.ratelimit import client_ip

from . import selectors, services
from .forms import HandoverForm, LoginForm, PasswordResetForm, ProfileForm, RegistrationForm, SmsRequestForm
from .models import Role, SmsPurpose
from .permissions import primary_role, role_required
from .validators import normalise_document_number


def _send_registration_code(request):
    """Send a registration code to the posted mobile; return (sent, message, code)."""
    sms_form = SmsRequestForm(request.POST)
    if not sms_form.is_valid():
        return False, sms_form.errors["mobile"][0], None
    mobile = sms_form.cleaned_data["mobile"]
    if not ratelimit.hit("register-probe", client_ip(request), limit=30, period=3600):
        return False, _("当前网络操作过于频繁，请一小时后再试。"), None
    id_number = normalise_document_number(request.POST.get("id_number", ""))
    try:
        conflict = services.registration_conflict(id_number, mobile)
        if conflict:
            raise conflict
        code = services.send_sms_code(mobile, SmsPurpose.REGISTER, client_ip(request))
    except DomainError as error:
        return False, error.message, None
    message = _("验证码已发送至 %(mobile)s，%(minutes)s 分钟内有效。") % {
        "mobile": mobile,
        "minutes": settings.SMS_CODE_TTL_SECONDS // 60,
    }
    return True, message, code if settings.SMS_SHOW_CODE_IN_PAGE else None


def _dev_code_message(code):
    return _("开发模式：验证码为 %(code)s（生产环境不会显示）。") % {"code": code}


def _render_register(request, form, *, refused=False):
    """The registration page; a refused one (errors on the form, a code not sent) shows who can help:
    the unit picked on the form, else the province."""
    help_contact = None
    if refused or form.errors:
        help_contact = selectors.contact_for(unit=selectors.unit_picked(request.POST.get("unit")))
    context = {"form": form, "sms_wait": settings.SMS_RESEND_SECONDS, "help_contact": help_contact}
    return render(request, "accounts/register.html", context)


@require_POST
def registration_code(request):
    """The "获取短信验证码" button with JavaScript on: JSON, and the form stays as typed."""
    sent, message, code = _send_registration_code(request)
    if not sent:
        # The page stays as it is (no reload): the refusal itself says who can help.
        contact = selectors.contact_for(unit=selectors.unit_picked(request.POST.get("unit")))
        if contact and contact.contact_phone:
            message = _("%(message)s 需要帮助？请联系%(name)s：%(phone)s") % {
                "message": message,
                "name": contact.name,
                "phone": contact.contact_phone,
            }
    return JsonResponse(
        {"sent": sent, "message": message, "dev_code": code and _dev_code_message(code)},
        status=200 if sent else 400,
    )


def register(request):
    """W1: the registration form. Without JavaScript, "获取短信验证码" posts the whole form
    and it comes back as typed (passwords excepted, as browsers expect)."""
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    if request.method != "POST":
        return _render_register(request, RegistrationForm())

    if request.POST.get("action") == "send_code":
        sent, message, code = _send_registration_code(request)
        (messages.success if sent else messages.error)(request, message)
        if code:
            messages.info(request, _dev_code_message(code))
        return _render_register(request, RegistrationForm(initial=request.POST.dict()), refused=not sent)

    form = RegistrationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.register_learner(
                id_type=data["id_type"],
                id_number=data["id_number"],
                name=data["name"],
                mobile=data["mobile"],
                password=data["password1"],
                sms_code=data["sms_code"],
                **form.profile_data(),
            )
        except DomainError as error:
            form.add_error(error.field, error.message)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, _("注册成功，欢迎您，%(name)s！") % {"name": user.name})
            return redirect("accounts:dashboard")
    return _render_register(request, form)


def _in_their_language(response, user):
    """After login the portal speaks the language the person chose last (on any device; issue 13)."""
    if user.language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def login_view(request):
    ip = client_ip(request)
    needs_captcha = services.login_needs_captcha(ip) or (
        request.method == "POST" and services.account_needs_captcha(request.POST.get("identifier", ""))
    )
    form = LoginForm(request.POST or None, needs_captcha=needs_captcha)
    help_contact = None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.check_login(form.cleaned_data["identifier"], form.cleaned_data["password"], ip)
        except DomainError as error:
            help_contact = _login_help(error, form.cleaned_data["identifier"])
            form.add_error(None, error.message)
            if not needs_captcha and services.login_needs_captcha(ip):
                form = LoginForm(request.POST, needs_captcha=True)
                form.is_valid()
                form.errors.pop("captcha", None)  # it appears now: ask for it, do not mark it as left empty
                form.add_error(None, error.message)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            target = request.POST.get("next") or request.GET.get("next")
            if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                return _in_their_language(redirect(target), user)
            return _in_their_language(redirect("accounts:dashboard"), user)
    if needs_captcha and request.method == "POST" and "captcha_1" not in request.POST and "captcha" in form.errors:
        # The page they sent had no captcha (it is asked for from this answer on): say what to do, not "required".
        form.errors["captcha"] = form.error_class([_("为保护账号安全，请输入图中的 4 个字符后再登录。")])
    context = {"form": form, "next": request.GET.get("next", ""), "help_contact": help_contact}
    return render(request, "accounts/login.html", context)


def _login_help(error, identifier):
    """Who helps after a refused login: the account's own unit once the password proved it is theirs (a
    disabled account), else the province's office; nothing names the unit of an account to a stranger."""
    if error.code == "inactive":
        return selectors.contact_for(learner=selectors.account_named(identifier))
    return selectors.contact_for()


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("home")


def password_reset(request):
    """Forgotten password: a code to the account's mobile, then a new password. A refusal shows the
    province's office (nothing tells whose account a number is), and the page says who helps when the
    mobile is no longer theirs."""
    form = PasswordResetForm(request.POST or None)
    help_contact = None
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            form = PasswordResetForm(initial={"identifier": request.POST.get("identifier", "")})
            identifier = request.POST.get("identifier", "").strip()
            if not identifier:
                messages.error(request, _("请输入证件号或手机号。"))
            else:
                try:
                    code = services.request_password_reset(identifier, client_ip(request))
                except DomainError as error:
                    messages.error(request, error.message)
                    help_contact = selectors.contact_for()
                else:
                    messages.success(request, _("如果该账号存在并绑定了手机号，验证码已发送到该手机，5 分钟内有效。"))
                    if settings.SMS_SHOW_CODE_IN_PAGE and code:
                        messages.info(request, _dev_code_message(code))
        elif form.is_valid():
            try:
                services.reset_password(
                    form.cleaned_data["identifier"], form.cleaned_data["sms_code"], form.cleaned_data["new_password1"]
                )
            except DomainError as error:
                form.add_error(error.field, error.message)
                help_contact = selectors.contact_for()
            else:
                messages.success(request, _("密码已重设，账号已解锁。请用新密码登录。"))
                return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form, "help_contact": help_contact})


@login_required
def profile(request):
    """The learner's own profile; completing blank fields is what certificates need."""
    instance = selectors.own_profile(request.user)
    form = ProfileForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.update_profile(request.user, **form.cleaned_data)
        messages.success(request, _("个人信息已保存。"))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "profile": instance})


@login_required
def dashboard(request):
    """Send each person to the dashboard of their widest role."""
    role = primary_role(request.user)
    if role is None:
        if request.user.is_superuser:
            return redirect("admin:index")
        messages.info(request, _("您的账号还没有分配角色，请先完善个人信息。"))
        return redirect("accounts:profile")
    return redirect(reverse("accounts:dashboard_role", args=[role]))


DASHBOARD_TEMPLATES = {
    Role.LEARNER: "dashboards/learner.html",
    Role.ORGANISER: "dashboards/organiser.html",
    Role.UNIT_ADMIN: "dashboards/unit_admin.html",
    Role.CITY_ADMIN: "dashboards/city_admin.html",
    Role.PROVINCE_ADMIN: "dashboards/province_admin.html",
}


def dashboard_role(request, role):
    """One dashboard per role; anyone not holding ``role`` gets 404."""
    if role not in DASHBOARD_TEMPLATES:
        raise Http404
    return role_required(role)(_render_dashboard)(request, Role(role))


def _render_dashboard(request, role):
    context = {"role": role, "nodes": request.user.scope_nodes(role)}
    if role == Role.LEARNER:
        from datetime import date

        from credits.compliance import own_progress  # the learner's card reads the credits app's figures

        context["profile"] = selectors.profile_of(request.user)
        context["progress"] = own_progress(request.user, date.today().year)
        context["attendances"] = request.user.attendances.select_related("session__project").order_by("-checked_in_at")[:5]
    elif role == Role.ORGANISER:
        context["sessions"] = request.user.organised_sessions.select_related("project").order_by("-created_at")[:8]
    return render(request, DASHBOARD_TEMPLATES[role], context)


@role_required(Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN)
def handover(request):
    """账号移交: the real holder of a document number, whose account someone else opened, gets it back."""
    form = HandoverForm(request.POST or None)
    candidate = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = services.handover_candidate(request.user, data["id_number"])
            if request.POST.get("action") == "send_code":
                code = services.send_handover_code(
                    admin=request.user, id_number=data["id_number"], new_mobile=data["new_mobile"], client_ip=client_ip(request)
                )
                messages.success(request, _("验证码已发送至 %(mobile)s，请本人读出。") % {"mobile": data["new_mobile"]})
                if settings.SMS_SHOW_CODE_IN_PAGE and code:
                    messages.info(request, _dev_code_message(code))
            else:
                if not data["sms_code"]:
                    raise DomainError(_("请填写发到本人手机的验证码。"), code="sms_missing", field="sms_code")
                done = services.hand_over_account(
                    admin=request.user,
                    id_number=data["id_number"],
                    new_mobile=data["new_mobile"],
                    sms_code=data["sms_code"],
                    reason=data["reason"],
                    document_checked=data["document_checked"],
                    name=data["name"],
                )
                messages.success(
                    request,
                    _("已将 %(name)s 的账号移交本人：请本人用手机号 %(mobile)s “注册”认领账号并设置密码。")
                    % {"name": done.user.name, "mobile": done.to_mobile},
                )
                return redirect("accounts:handover")
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(
        request,
        "accounts/handover.html",
        {"form": form, "candidate": candidate, "recent": selectors.recent_handovers(request.user)},
    )
