from django.urls import path

from cme_portal.review import views as review_views

from . import desk_views, organiser_views, views

app_name = "attendance"

urlpatterns = [
    path("s/<int:session_pk>/<str:direction>/<str:token>/", views.door, name="door"),
    path("sessions/<int:pk>/codes/", organiser_views.codes, name="codes"),
    path("sessions/<int:pk>/poster/<str:direction>/", organiser_views.poster, name="poster"),
    path("sessions/<int:pk>/projector/<str:direction>/", organiser_views.projector, name="projector"),
    path("sessions/<int:pk>/roster/", organiser_views.roster, name="roster"),
    path("sessions/<int:pk>/roster/action/", organiser_views.roster_action, name="roster_action"),
    path("sessions/<int:pk>/roster/select/", organiser_views.roster_select, name="roster_select"),
    path("sessions/<int:pk>/roster/export/", organiser_views.roster_export, name="roster_export"),
    path("sessions/<int:pk>/survey/", organiser_views.survey_results, name="survey_results"),
    path("projects/<int:project_pk>/survey/", organiser_views.project_survey_results, name="project_survey_results"),
    path("rosters/<slug:level>/", review_views.queue, {"kind": "roster"}, name="roster_queue"),
    path("sessions/<int:pk>/desk/", desk_views.desk, name="desk"),
    path("sessions/<int:pk>/desk/scan/", desk_views.desk_scan, name="desk_scan"),
    path("sessions/<int:pk>/desk/staff/", desk_views.desk_staff, name="desk_staff"),
    path("my-code/", desk_views.my_code, name="my_code"),
    path("my-code/print/", desk_views.my_code_print, name="my_code_print"),
    path("policy/", organiser_views.door_policy, name="door_policy"),
    path("surveys/", organiser_views.survey_templates, name="survey_templates"),
    path("surveys/<int:pk>/", organiser_views.survey_templates, name="survey_template_edit"),
]
