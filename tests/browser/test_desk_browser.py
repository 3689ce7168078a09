"""The desk (签到台) on a 360-pixel phone: Chromium's fake camera shows a learner's personal code and the page
reads it; with the network cut, typed scans wait on the device and are sent once each when it comes back."""

import io

import pytest
import qrcode
from django.utils import timezone
from PIL import Image

from attendance import tokens
from attendance.models import Attendance, DeskScan
from cme_portal.accounts.models import Role

from ..factories import PASSWORD, door_open_today, learner, make_tree, staff
from .conftest import ARTIFACTS, CHROMIUM, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def y4m_of(text, path, size=480, frames=5):
    """A YUV4MPEG2 clip (Chromium's fake camera input) that shows the QR code of ``text``, centred, still."""
    code = qrcode.make(text, border=4).convert("L").resize((360, 360), Image.NEAREST)
    canvas = Image.new("L", (size, size), 255)
    canvas.paste(code, ((size - 360) // 2, (size - 360) // 2))
    y = canvas.tobytes()
    chroma = bytes([128]) * ((size // 2) * (size // 2))
    with open(path, "wb") as clip:
        clip.write(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            clip.write(b"FRAME\n" + y + chroma + chroma)
    return path


@pytest.fixture
def desk_day():
    tree = make_tree()
    organiser = staff(Role.ORGANISER, tree["unit_a"], name="张立项")
    session = door_open_today(organiser, tree["unit_a"])
    return tree, organiser, session


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_identifier").fill(user.mobile)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/**")


def test_the_desk_reads_a_personal_code_through_the_camera(playwright, live_server, desk_day, screenshot):
    tree, organiser, session = desk_day
    person = learner(unit=tree["unit_a"], name="没手机")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    clip = y4m_of(tokens.printed_personal_code(person.pk, timezone.localdate()), ARTIFACTS / "desk-camera.y4m")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ],
    )
    try:
        context = browser.new_context(**PHONE, locale="zh-CN", permissions=["camera"])
        page = context.new_page()
        sign_in(page, live_server.url, organiser)
        page.goto(f"{live_server.url}/attendance/sessions/{session.pk}/desk/")
        page.get_by_role("button", name="打开摄像头扫码").click()
        page.locator(".desk-scan[data-state=sent]").first.wait_for(timeout=20000)
        assert "没手机" in page.locator("#scans").inner_text()
        screenshot(page, "desk-camera-360")
    finally:
        browser.close()
    row = Attendance.objects.get(learner=person)
    assert row.in_via == "desk" and row.in_by == organiser
    assert Attendance.objects.count() == 1  # the code stayed in view: read again, still one row


def test_scans_made_offline_are_sent_once_each_when_the_network_returns(browser, live_server, desk_day, screenshot):
    tree, organiser, session = desk_day
    people = [learner(unit=tree["unit_a"]) for _ in range(3)]
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, organiser)
    page.goto(f"{live_server.url}/attendance/sessions/{session.pk}/desk/")

    context.set_offline(True)
    for person in people[:2]:
        page.locator("#typed-text").fill(person.id_number)
        page.get_by_role("button", name="确定").click()
    page.get_by_text("待发送 2").wait_for()
    page.get_by_text("网络中断").wait_for()
    screenshot(page, "desk-offline-360")
    assert not Attendance.objects.exists()

    # Back online; the first answer is lost on its way back, so the page sends that scan again.
    lost = []

    def lose_first_answer(route):
        if not lost:
            lost.append(route.request.post_data)
            route.fetch()  # the server records it …
            route.abort()  # … and the phone never hears
        else:
            route.continue_()

    page.route("**/desk/scan/", lose_first_answer)
    context.set_offline(False)
    page.locator(".desk-scan[data-state=sent]").nth(1).wait_for(timeout=20000)
    page.locator("#typed-text").fill(people[2].mobile)
    page.get_by_role("button", name="确定").click()
    page.locator(".desk-scan[data-state=sent]").nth(2).wait_for(timeout=20000)
    screenshot(page, "desk-online-360")
    assert lost and DeskScan.objects.count() == 3
    assert sorted(Attendance.objects.values_list("learner_id", flat=True)) == sorted(p.pk for p in people)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_my_code_on_a_phone(browser, live_server, desk_day, screenshot):
    tree, _organiser, _session = desk_day
    person = learner(unit=tree["unit_a"], name="扫码人")
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, person)
    page.goto(f"{live_server.url}/attendance/my-code/")
    path = screenshot(page, "my-code-360")
    import zxingcpp

    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(path.read_bytes())))
    assert tokens.read_personal_code(read.text, timezone.now()) == person.pk
    context.close()
