from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.query, name="query"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:number>.pdf", views.download, name="download"),
    path("link/<str:token>/", views.signed_download, name="signed_download"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<int:pk>/", views.bulk_status, name="bulk_status"),
    path("bulk/<int:pk>/download/", views.bulk_download, name="bulk_download"),
]
