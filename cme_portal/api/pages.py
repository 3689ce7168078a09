"""The province admin's pages for the API: tokens (made, rotated, revoked; a key shown once) and the call log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.errors import DomainError

from . import selectors, services
from .forms import TokenForm


@role_required(Role.PROVINCE_ADMIN)
def tokens(request):
    province = selectors.province_of_admin(request.user)
    form = TokenForm(request.POST or None, province=province)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = services.create_token(admin=request.user, **form.cleaned_data)
        except DomainError as error:
            error.add_to(form)
        else:
            messages.success(request, _("令牌已创建。请立即复制保存：离开本页后无法再次查看。"))
            form = TokenForm(province=province)
    return _page(request, form, new_key)


def _page(request, form, new_key=None, status=200):
    rows = Paginator(selectors.tokens_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "api/tokens.html", {"form": form, "tokens": rows, "new_key": new_key}, status=status)


@require_POST
@role_required(Role.PROVINCE_ADMIN)
def rotate(request, pk):
    token = selectors.get_token(request.user, pk)
    try:
        _token, new_key = services.rotate_token(token, request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("integrations:tokens")
    messages.success(request, _("已生成新令牌，旧令牌已停用。请立即复制保存新令牌。"))
    return _page(request, TokenForm(province=selectors.province_of_admin(request.user)), new_key)


@require_POST
@role_required(Role.PROVINCE_ADMIN)
def revoke(request, pk):
    token = selectors.get_token(request.user, pk)
    services.revoke_token(token, request.user)
    messages.success(request, _("令牌 %(prefix)s 已停用。") % {"prefix": token.prefix})
    return redirect("integrations:tokens")


@role_required(Role.PROVINCE_ADMIN)
def calls(request):
    token_id = request.GET.get("token", "")
    token_id = int(token_id) if token_id.isdigit() else None
    rows = Paginator(selectors.calls_for(request.user, token_id), 50).get_page(request.GET.get("page"))
    return render(request, "api/calls.html", {"calls": rows, "token_id": token_id})
