"""Issue 13, item 2 (WCAG 2.2 AA) in the HTML the server sends: the captcha's text question, the error summary of a
rejected form, pages that change with the clock without reloading themselves. The browser suite checks the same
pages with axe-core (tests/browser/axe.py)."""

import re

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse

from .factories import learner

pytestmark = pytest.mark.django_db

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def query(client, **data):
    return client.post(reverse("certificates:query") + "?by=document", {"by": "document", "id_number": "x", "name": "y", **data})


def answer_box(html):
    return re.search(r'<input type="text" name="captcha_1"[^>]*>', html).group(0)


def test_the_captcha_answer_box_has_a_label_and_the_picture_a_name(client):
    html = client.get(reverse("certificates:query") + "?by=document").content.decode()
    assert '<label\n                for="id_captcha_1"' in html or re.search(r'<label\s+for="id_captcha_1"', html)
    assert "<legend" not in html.split('id="div_id_captcha"', 1)[1].split("</form>")[0]  # not a fieldset of one box
    assert re.search(r'<img [^>]*alt="图形验证码', html)
    assert "看不清？换成文字题" in html and "换一张" in html


def test_the_text_question_is_a_sum_the_captcha_accepts(client):
    assert client.get(reverse("captcha_text")).status_code == 404  # asked by the page's script only
    data = client.get(reverse("captcha_text"), **XHR).json()
    a, b = map(int, re.match(r"(\d) 加 (\d) 等于多少", data["question"]).groups())
    assert CaptchaStore.objects.get(hashkey=data["key"]).response == str(a + b)

    wrong = query(client, captcha_0=data["key"], captcha_1=str(a + b + 1), captcha_mode="text")
    assert "captcha" in wrong.context["form"].errors
    data = client.get(reverse("captcha_text"), **XHR).json()
    a, b = map(int, re.match(r"(\d) 加 (\d)", data["question"]).groups())
    right = query(client, captcha_0=data["key"], captcha_1=str(a + b), captcha_mode="text")
    assert not right.context["form"].errors and right.context["results"] == []


def test_a_form_sent_back_keeps_the_text_question_and_points_to_it(client):
    html = query(client, captcha_0="x", captcha_1="", captcha_mode="text").content.decode()
    question = re.search(r'<p class="captcha-question[^"]*" id="([^"]+)"[^>]*>(\d 加 \d 等于多少？[^<]*)</p>', html)
    assert question, "the question is written out as text"
    box = answer_box(html)
    assert 'aria-invalid="true"' in box and question.group(1) in re.search(r'aria-describedby="([^"]+)"', box).group(1)
    assert re.search(r"<img [^>]*data-captcha-image hidden", html)
    assert 'name="captcha_mode" value="text"' in html
    # Without the switch, the picture again.
    html = query(client, captcha_0="x", captcha_1="").content.decode()
    assert re.search(r'<p class="captcha-question[^>]*hidden>', html) and 'name="captcha_mode" value=""' in html


def test_a_rejected_form_opens_with_a_summary_linked_to_its_fields(client):
    html = client.post(reverse("accounts:register"), {"action": "register", "name": "王秀英"}).content.decode()
    summary = re.search(r'<div class="alert alert-danger form-error-summary" role="alert" tabindex="-1">(.*?)</div>', html, re.S)
    assert summary and "提交未成功" in summary.group(1)
    assert '<a href="#id_id_number">证件号（用户名）</a>' in summary.group(1)
    assert '<a href="#id_sex_0">性别</a>' in summary.group(1)  # radios: the first of them
    field = re.search(r'<input [^>]*name="id_number"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and "id_id_number_error" in field
    assert 'id="id_id_number_error"' in html
    assert "aria-invalid" not in re.search(r'<input [^>]*name="name"[^>]*>', html).group(0)


def test_crispy_forms_get_the_summary_too(client):
    html = query(client, name="", captcha_0="x", captcha_1="PASSED").content.decode()  # {{ form|crispy }}
    summary = re.search(r'<div class="alert alert-danger form-error-summary" role="alert" tabindex="-1">(.*?)</div>', html, re.S)
    assert summary and '<a href="#id_name">姓名</a>' in summary.group(1)


def test_pages_that_change_with_the_clock_do_not_reload_themselves(client, tree):
    client.force_login(learner(unit=tree["unit_a"]))
    html = client.get(reverse("attendance:my_code")).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in html
    assert html.count('http-equiv="refresh"') == 1  # only for browsers without scripts
    assert re.search(r'id="live-code" data-refresh-after="\d+"', html) and "js/refresh-region.js" in html
