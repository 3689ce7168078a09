from django.urls import path

from cme_portal.review import views as review_views

from . import admin_views, record_views, views

app_name = "credits"

urlpatterns = [
    path("", views.my_credits, name="my_credits"),
    path("entries/new/", views.entry_new, name="entry_new"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("entries/<int:pk>/action/", views.entry_action, name="entry_action"),
    path("evidence/<uuid:public_id>/", views.evidence, name="evidence"),
    path("queue/<slug:level>/", review_views.queue, {"kind": "credit_entry"}, name="queue"),
    path("records/<int:record_pk>/correction/", views.correction_new, name="correction_new"),
    path("corrections/<int:pk>/", views.correction_detail, name="correction_detail"),
    path("corrections/<int:pk>/action/", views.correction_action, name="correction_action"),
    path("corrections/queue/<slug:level>/", review_views.queue, {"kind": "correction"}, name="correction_queue"),
    path("batch/", admin_views.batch_new, name="batch_new"),
    path("early-review/", admin_views.early_review, name="early_review"),
    path("platform-import/", admin_views.platform_import, name="platform_import"),
    path("rules/", admin_views.requirement_rules, name="rules"),
    path("policy/", admin_views.entry_policy, name="entry_policy"),
    path("early-review/<int:pk>/letter/", admin_views.early_review_letter, name="early_review_letter"),
    path("compliance/", admin_views.compliance_report, name="compliance_report"),
    path("record/", record_views.my_record, name="my_record"),
    path("record/jobs/<str:token>/", record_views.record_job, name="record_job"),
    path("record/verify/<str:token>/", record_views.record_verify, name="record_verify"),
    path("compliance/export/", admin_views.compliance_report, {"export": True}, name="compliance_export"),
    path("jobs/<uuid:public_id>/", admin_views.job_status, name="job_status"),
    path("jobs/<uuid:public_id>/download/", admin_views.job_download, name="job_download"),
]
