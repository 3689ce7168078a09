from django.urls import path

from cme_portal.review import views as review_views

from . import catalogue_views, views

app_name = "projects"

urlpatterns = [
    path("", views.public_search, name="public_search"),
    path("<int:pk>/", views.public_detail, name="public_detail"),
    path("mine/", views.my_sessions, name="my_sessions"),
    path("national/new/", views.national_new, name="national_new"),
    path("<int:project_pk>/sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/delete/", views.session_delete, name="session_delete"),
    path("sessions/<int:pk>/materials/", views.material_upload, name="material_upload"),
    path("sessions/<int:pk>/action/", views.session_action, name="session_action"),
    path("materials/<uuid:public_id>/", views.material_download, name="material_download"),
    path("queue/<slug:level>/", review_views.queue, {"kind": "hosting"}, name="queue"),
    path("catalogue/disciplines/", catalogue_views.discipline_list, name="discipline_list"),
    path("catalogue/disciplines/new/", catalogue_views.discipline_edit, name="discipline_new"),
    path("catalogue/disciplines/<int:pk>/", catalogue_views.discipline_edit, name="discipline_edit"),
    path("catalogue/import/", catalogue_views.project_import, name="project_import"),
    path("catalogue/import/<uuid:public_id>/", catalogue_views.import_status, name="import_status"),
    path("catalogue/export/", catalogue_views.project_export, name="project_export"),
    path("catalogue/co-organisers/", catalogue_views.co_organisers, name="co_organisers"),
]
