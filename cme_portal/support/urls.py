from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.help_page, name="help"),
    path("report/", views.report_new, name="report"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact_edit"),
]
