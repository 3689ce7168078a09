from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services


@require_POST
@login_required
def save_preferences(request):
    """The notification choices on the profile page: e-mail, SMS, and (reviewers) the daily digest."""
    services.save_preferences(
        request.user,
        by_email=request.POST.get("by_email") == "on",
        by_sms=request.POST.get("by_sms") == "on",
        daily_digest=request.POST.get("daily_digest") == "on",
    )
    messages.success(request, _("通知方式已保存。"))
    return redirect("accounts:profile")
