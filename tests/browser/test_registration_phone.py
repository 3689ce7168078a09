"""W1 on a 360-pixel-wide phone: register, get the SMS code, land on the learner's dashboard."""

import pytest

from cme_portal.accounts.models import Organisation, OrgKind, User

from ..conftest import last_sms_code
from ..factories import make_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_on_a_phone(live_server, phone, screenshot):
    tree = make_tree()
    other = Organisation.objects.create(name="急诊科", kind=OrgKind.DEPARTMENT, parent=tree["unit_b"])
    page = phone
    page.goto(f"{live_server.url}/accounts/register/")
    screenshot(page, "register-phone-empty")

    page.get_by_label("证件号（用户名）").fill("11010519491231002X")
    # Issue 13: birth date and sex come from the resident ID as it is typed, not only after saving.
    assert page.locator("#id_birth_date").input_value() == "1949-12-31"
    assert page.locator("input[name=sex][value=F]").is_checked()
    page.get_by_label("姓名").fill("王秀英")
    page.get_by_label("职称").select_option("intermediate")
    page.get_by_label("职务").select_option("staff")
    page.get_by_label("所属区域").select_option(str(tree["city_a"].pk))
    page.locator("#id_unit").select_option(str(tree["unit_a"].pk))
    page.get_by_label("通讯地址").fill("甲市健康路 8 号")
    # 科室 (seed 000: 请选择科室): only the picked unit's departments are offered.
    pick = page.get_by_label("科室", exact=True)
    assert pick.locator(f"option[value='{other.pk}']").evaluate("o => o.hidden")
    assert not pick.locator(f"option[value='{tree['dept_a'].pk}']").evaluate("o => o.hidden")
    pick.select_option(str(tree["dept_a"].pk))
    page.locator("#id_password1").fill("Winter-Plum-2026")
    page.get_by_label("确认密码").fill("Winter-Plum-2026")
    page.get_by_label("手机号码").fill("13912345678")

    page.get_by_role("button", name="获取短信验证码").click()
    status = page.locator("#sms-status")
    status.filter(has_text="验证码已发送").wait_for()
    # The page did not reload: what was typed, passwords included, is still there.
    assert page.locator("#id_password1").input_value() == "Winter-Plum-2026"

    page.get_by_label("短信验证码").fill(last_sms_code("13912345678"))
    screenshot(page, "register-phone-filled")
    page.get_by_role("button", name="注册", exact=True).click()

    page.wait_for_url("**/accounts/dashboard/learner/")
    assert page.get_by_role("heading", name="学员 · 工作台").is_visible()
    assert page.get_by_text("注册成功，欢迎您，王秀英！").is_visible()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "register-phone-dashboard")

    user = User.objects.get(id_number="11010519491231002X")
    assert user.profile.sex == "F" and str(user.profile.birth_date) == "1949-12-31"
    assert user.profile.department == "心内科"
