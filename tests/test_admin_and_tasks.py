from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cme_portal.accounts.models import Role, SmsCode, SmsPurpose, User
from cme_portal.accounts.services import send_sms_code
from cme_portal.accounts.tasks import purge_expired_sms_codes

from .conftest import forget_rate_limits
from .factories import staff

pytestmark = pytest.mark.django_db


def test_django_admin_is_for_superusers_only(client, tree):
    province_admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(province_admin)
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff

    root = User.objects.create_superuser("admin", "Root-Pass-2026", mobile="13900000000")
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/organisation/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_purge_removes_only_codes_expired_a_day_ago():
    start = timezone.now()
    send_sms_code("13912345678", SmsPurpose.REGISTER)
    with time_machine.travel(start + timedelta(hours=30)):
        forget_rate_limits()
        send_sms_code("13912345678", SmsPurpose.REGISTER)
        assert purge_expired_sms_codes() == 1
    assert SmsCode.objects.count() == 1


def test_every_admin_list_page_opens_for_a_superuser(client, tree):
    from django.contrib import admin

    root = User.objects.create_superuser("admin", "Root-Pass-2026", mobile="13900000000")
    client.force_login(root)
    for model in admin.site._registry:
        meta = model._meta
        assert client.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200, meta.label
