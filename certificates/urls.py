from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.query, name="query"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:number>.pdf", views.download, name="download"),
    path("link/<str:token>/", views.signed_download, name="signed_download"),
    path("verify/", views.verify_start, name="verify_start"),
    path("verify/file/", views.verify_file, name="verify_file"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("template/", views.template_edit, name="template"),
    path("template/preview/", views.template_preview, name="template_preview"),
    path("template/reissue/", views.template_reissue, name="template_reissue"),
    path("template/reissue/<int:pk>/", views.reissue_status, name="reissue_status"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<int:pk>/", views.bulk_status, name="bulk_status"),
    path("bulk/<int:pk>/download/", views.bulk_download, name="bulk_download"),
]
