"""Guards that the mutation run (scripts/mutants.py) found no test holding, each held now."""

from datetime import date

import pytest

from attendance import services as attendance_services
from certificates import services as certificate_services
from cme_portal import ratelimit
from cme_portal.accounts import services as account_services
from cme_portal.accounts.models import SmsPurpose
from cme_portal.errors import DomainError
from credits import services as credits_services
from credits.models import CREDIT_ENTRY_WORKFLOW
from projects.models import HOSTING_WORKFLOW

from .factories import approved_session, certificates_for, credit_entry, resident_id, session_for

pytestmark = pytest.mark.django_db


def door_form(tree, **changes):
    data = dict(
        id_type="resident_id",
        id_number=resident_id(7, birth=date(1990, 6, 15)),
        name="新学员",
        sex="M",
        age=36,
        mobile="13700001111",
        unit=tree["unit_a"],
        unit_name="",
        department="心内科",
        unit_location="甲市",
        grassroots=False,
        title="junior",
        position="staff",
        education="bachelor",
        sms_code="000000",  # the refusals below come before the code is checked
    )
    return {**data, **changes}


def test_the_door_sends_a_known_document_number_back_to_check_in(cast, tree):
    with pytest.raises(DomainError) as refused:
        attendance_services.register_at_door(**door_form(tree, id_number=cast["learner"].id_number))
    assert (refused.value.code, refused.value.field) == ("known", "id_number")
    assert str(refused.value.message) == "该证件号已登记，请返回直接签到。"


def test_the_door_refuses_a_mobile_bound_to_another_account(cast, tree):
    with pytest.raises(DomainError) as refused:
        attendance_services.register_at_door(**door_form(tree, mobile=cast["learner"].mobile))
    assert (refused.value.code, refused.value.field) == ("mobile_taken", "mobile")


@pytest.mark.parametrize("workflow, action", [(HOSTING_WORKFLOW, "submit"), (CREDIT_ENTRY_WORKFLOW, "resubmit")])
def test_a_reviewer_cannot_take_the_owners_step_through_review(cast, workflow, action):
    subject = session_for(cast["organiser"]) if workflow is HOSTING_WORKFLOW else credit_entry(cast["learner"])
    before = subject.state
    with pytest.raises(DomainError) as refused:
        workflow.review(subject, cast["unit_admin"], action)
    assert refused.value.code == "unknown_action"
    subject.refresh_from_db()
    assert subject.state == before


def test_a_revocation_needs_a_reason(cast):
    session = approved_session(cast["organiser"], cast["unit_admin"], cast["province_admin"])
    [certificate] = certificates_for(session, [cast["learner"]])
    with pytest.raises(DomainError) as refused:
        certificate_services.revoke(certificate, cast["province_admin"], "   ")
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")
    certificate.refresh_from_db()
    assert certificate.status == "issued"


def test_the_sms_gate_stops_a_parallel_request_that_passed_the_count():
    """Two requests at once both see no code sent yet; the shared counter lets one through."""
    assert ratelimit.hit("sms-number", "13700002222:register", limit=1, period=60)  # the other request, a moment earlier
    with pytest.raises(DomainError) as refused:
        account_services.send_sms_code("13700002222", SmsPurpose.REGISTER, client_ip="10.0.0.9")
    assert refused.value.code == "sms_too_soon"


def test_the_address_gate_stops_parallel_requests_from_one_network(settings):
    for _ in range(settings.SMS_MAX_PER_ADDRESS_PER_HOUR):
        ratelimit.hit("sms-address", "10.0.0.10", limit=settings.SMS_MAX_PER_ADDRESS_PER_HOUR, period=3600)
    with pytest.raises(DomainError) as refused:
        account_services.send_sms_code("13700003333", SmsPurpose.REGISTER, client_ip="10.0.0.10")
    assert refused.value.code == "sms_address_limit"


def test_a_disabled_account_is_told_so_even_with_the_right_password(cast):
    from tests.factories import PASSWORD

    type(cast["learner"]).objects.filter(pk=cast["learner"].pk).update(is_active=False)
    with pytest.raises(DomainError) as refused:
        account_services.check_login(cast["learner"].id_number, PASSWORD, "10.0.0.20")
    assert refused.value.code == "inactive"


def test_resets_for_unknown_accounts_still_count_against_the_address(settings):
    for _ in range(settings.SMS_MAX_PER_ADDRESS_PER_HOUR):
        assert account_services.request_password_reset("nobody-here", "10.0.0.21") is None
    with pytest.raises(DomainError) as refused:
        account_services.request_password_reset("nobody-here", "10.0.0.21")
    assert refused.value.code == "sms_address_limit"


def test_a_reset_for_an_unknown_account_is_refused_like_a_wrong_code():
    with pytest.raises(DomainError) as refused:
        account_services.reset_password("nobody-here", "123456", "New-Password-42")
    assert (refused.value.code, refused.value.field) == ("sms_wrong", "sms_code")


def test_an_entry_needs_the_learners_unit(tree):
    from decimal import Decimal

    from .factories import ENTRY, learner

    ENTRY = {**ENTRY, "credits": Decimal("8"), "hours": Decimal("24")}

    nobody = learner(unit=None, name="无单位")
    with pytest.raises(DomainError) as refused:
        credits_services.enter_credit(nobody, evidence=[], **ENTRY)
    assert refused.value.code == "no_unit"


def test_only_a_returned_entry_of_ones_own_is_corrected(cast):
    from decimal import Decimal

    from .factories import ENTRY

    ENTRY = {**ENTRY, "credits": Decimal("8"), "hours": Decimal("24")}

    entry = credit_entry(cast["learner"])
    with pytest.raises(DomainError) as refused:
        credits_services.correct_entry(entry, cast["learner"], **ENTRY)  # submitted, not returned
    assert refused.value.code == "not_editable"
    CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", "补材料")
    with pytest.raises(DomainError):
        credits_services.correct_entry(entry, cast["other_learner"], **ENTRY)  # someone else's
