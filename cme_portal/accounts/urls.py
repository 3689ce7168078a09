from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/code/", views.registration_code, name="registration_code"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("profile/", views.profile, name="profile"),
    path("handover/", views.handover, name="handover"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:role>/", views.dashboard_role, name="dashboard_role"),
]
