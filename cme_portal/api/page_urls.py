from django.urls import path

from . import pages

app_name = "integrations"

urlpatterns = [
    path("tokens/", pages.tokens, name="tokens"),
    path("tokens/<int:pk>/rotate/", pages.rotate, name="rotate"),
    path("tokens/<int:pk>/revoke/", pages.revoke, name="revoke"),
    path("calls/", pages.calls, name="calls"),
]
