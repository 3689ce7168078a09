from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", views.Docs.as_view(), name="docs"),
    path("token/", views.TokenInfo.as_view(), name="token"),
    path("platform/credits/", views.PlatformCredits.as_view(), name="platform_credits"),
    path("compliance/learners/", views.ComplianceLearners.as_view(), name="compliance_learners"),
]
