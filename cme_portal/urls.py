from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import captcha, views

admin.site.site_header = _("继续医学教育管理平台")
admin.site.site_title = _("继续医学教育管理平台")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("healthz/db/", views.healthz_db, name="healthz_db"),
    path("accounts/", include("cme_portal.accounts.urls")),
    path("notifications/", include("cme_portal.review.urls")),
    path("projects/", include("projects.urls")),
    path("credits/", include("credits.urls")),
    path("attendance/", include("attendance.urls")),
    path("certificates/", include("certificates.urls")),
    path("audit/", include("cme_portal.audit.urls")),
    path("help/", include("cme_portal.support.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("captcha/text/", captcha.text_challenge, name="captcha_text"),
    path("captcha/", include("captcha.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cme_portal.api.urls")),
    path("integrations/", include("cme_portal.api.page_urls")),
    path("notifications/", include("cme_portal.notifications.urls")),
]

handler400 = "cme_portal.views.bad_request"
