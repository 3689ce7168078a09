"""Headers and limits (issue 16, item 6): no cache keeps a page or file with personal data."""

import pytest
from django.urls import reverse

from .factories import credit_entry
from .test_certificates import awarded, session  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def no_store(response):
    return "no-store" in response.get("Cache-Control", "")


def test_every_page_of_a_signed_in_person_is_no_store(client, cast):
    client.force_login(cast["learner"])
    for url in (reverse("accounts:profile"), reverse("credits:my_credits"), reverse("home")):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), url


def test_files_with_personal_data_are_no_store(client, cast, awarded, tree):  # noqa: F811
    learner = cast["learner"]
    entry = credit_entry(learner, activity_number="2026-03-01-099（国）", activity_name="呼吸疾病进展")
    certificate = awarded(learner)[0]
    client.force_login(learner)

    evidence = client.get(reverse("credits:evidence", args=[entry.public_id]))
    pdf = client.get(reverse("certificates:download", args=[certificate.number]))
    assert evidence.status_code == pdf.status_code == 200
    assert no_store(evidence) and no_store(pdf)

    client.logout()
    verify = client.get(reverse("certificates:verify", args=[certificate.code]))
    assert verify.status_code == 200 and no_store(verify)


def test_public_pages_without_personal_data_stay_cacheable(client, db):
    assert not no_store(client.get(reverse("home")))
    assert not no_store(client.get(reverse("projects:public_search")))


def test_messages_are_made_only_for_the_requests_that_use_them(rf, settings):
    """cme_portal.middleware.LazyMessageMiddleware: a request that never touches messages builds no storage and
    sets no cookie; one that adds a message has it kept for the next page, as with Django's middleware."""
    from django.contrib import messages
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse
    from django.utils.functional import empty

    from cme_portal.middleware import LazyMessageMiddleware

    def quiet(request):
        return HttpResponse("ok")

    def telling(request):
        messages.success(request, "已保存。")
        return HttpResponse("ok")

    for view, touched in ((quiet, False), (telling, True)):
        request = rf.get("/")
        SessionMiddleware(lambda r: HttpResponse()).process_request(request)
        response = LazyMessageMiddleware(view)(request)
        assert (request._messages._wrapped is not empty) is touched
        assert ("messages" in response.cookies) is touched
    follow = rf.get("/", HTTP_COOKIE=f"messages={response.cookies['messages'].value}")
    SessionMiddleware(lambda r: HttpResponse()).process_request(follow)
    LazyMessageMiddleware(quiet)(follow)
    assert [str(m) for m in messages.get_messages(follow)] == ["已保存。"]
