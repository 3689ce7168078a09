"""The API (/api/v1/): platform feeds through the same service as the file import, units' read-only
compliance through the token's scope, tokens made, rotated and revoked by the province, every call logged."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from cme_portal.accounts.models import Role
from cme_portal.api import services as api_services
from cme_portal.api.models import ApiCall, ApiToken, TokenKind
from credits.models import CreditRecord, Platform, PlatformRecord

from .factories import learner, ledger_row, staff

pytestmark = pytest.mark.django_db

FEED = reverse("api:platform_credits")
LEARNERS = reverse("api:compliance_learners")


@pytest.fixture
def platform():
    return Platform.objects.filter(active=True).order_by("name").first()


def make_token(admin, **fields):
    token, key = api_services.create_token(admin=admin, name="测试", **fields)
    return token, key


@pytest.fixture
def platform_token(cast, platform):
    return make_token(cast["province_admin"], kind=TokenKind.PLATFORM, platform=platform)


@pytest.fixture
def unit_token(cast, tree):
    return make_token(cast["province_admin"], kind=TokenKind.UNIT, org=tree["unit_a"])


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def record(person, rid, **fields):
    return {
        "record_id": rid,
        "id_number": person.id_number,
        "name": person.name,
        "project_number": f"2026-03-01-{rid[-3:]}（国）",
        "project_name": "远程课程",
        "credits": 2,
        "hours": "6",
        "credit_class": "I",
        "finished_on": "2026-03-01",
        **fields,
    }


def post_batch(client, key, records):
    return client.post(FEED, {"records": records}, content_type="application/json", **auth(key))


# --- platform feeds --------------------------------------------------------------------------


def test_the_same_batch_twice_holds_each_credit_once(client, cast, platform_token):
    _token, key = platform_token
    person = cast["learner"]
    batch = [record(person, "HY-101"), record(person, "HY-102"), record(person, "HY-103", credit_class="II")]
    first = post_batch(client, key, batch)
    assert first.status_code == 200
    assert (first.json()["imported"], first.json()["skipped"], first.json()["refused"]) == (3, 0, 0)
    again = post_batch(client, key, batch)
    assert again.status_code == 200
    body = again.json()
    assert (body["imported"], body["skipped"]) == (0, 3)
    assert {r["code"] for r in body["results"]} == {"already_imported"}
    assert CreditRecord.objects.filter(learner=person, source="platform").count() == 3
    assert PlatformRecord.objects.count() == 3


def test_one_bad_record_is_named_and_the_others_are_imported(client, cast, platform_token):
    _token, key = platform_token
    person = cast["learner"]
    batch = [record(person, "HY-201"), record(person, "HY-202", credits="30"), record(person, "HY-203")]
    body = post_batch(client, key, batch).json()
    assert body["imported"] == 2 and body["refused"] == 1
    bad = [r for r in body["results"] if r["status"] == "refused"]
    assert bad == [
        {
            "index": 1,
            "record_id": "HY-202",
            "status": "refused",
            "code": "credits_range",
            "message": "学分应大于 0，且不超过 25 分",
        }
    ]
    # Nothing of the refused record was written.
    assert not PlatformRecord.objects.filter(record_id="HY-202").exists()
    assert not CreditRecord.objects.filter(activity_key__startswith="2026-03-01-202").exists()


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"name": "别人"}, "name_mismatch"),
        ({"id_number": "110105194912310029"}, "unknown_learner"),
        ({"finished_on": "2026-13-01"}, "bad_format"),
        ({"credits": "NaN"}, "bad_format"),
        ({"hours": "-1"}, "bad_format"),
        ({"credit_class": "III"}, "bad_class"),
        ({"project_name": ""}, "missing"),
        ({"record_id": "X" * 65}, "too_long"),
        ({"finished_on": "2999-01-01"}, "future_date"),
    ],
)
def test_each_refusal_has_its_code_and_writes_nothing(client, cast, platform_token, fields, code):
    _token, key = platform_token
    body = post_batch(client, key, [record(cast["learner"], "HY-301", **fields)]).json()
    assert body["results"][0]["status"] == "refused" and body["results"][0]["code"] == code
    assert body["results"][0]["message"]
    assert not CreditRecord.objects.exists() and not PlatformRecord.objects.exists()


def test_the_feed_and_the_file_import_share_the_record_ids(client, cast, platform, platform_token):
    """A record first imported from the province's file is skipped when the platform posts it (one service)."""
    from credits.platforms import import_platform_file

    from .test_compliance import platform_file

    person = cast["learner"]
    report = import_platform_file(
        platform_file(("HY-401", person.id_number, person.name, "2026-03-01-401（国）", "课程", 2, 6, "I", "2026-03-01")),
        platform.name,
        cast["province_admin"],
    )
    assert report.imported == 1
    body = post_batch(client, platform_token[1], [record(person, "HY-401")]).json()
    assert body["results"][0]["code"] == "already_imported"
    assert CreditRecord.objects.filter(learner=person).count() == 1


def test_a_batch_over_1000_or_malformed_is_refused_whole(client, cast, platform_token):
    key = platform_token[1]
    person = cast["learner"]
    too_many = post_batch(client, key, [record(person, f"B-{n:04d}") for n in range(1001)])
    assert too_many.status_code == 400 and "records" in too_many.json()["detail"]
    assert post_batch(client, key, []).status_code == 400
    assert client.post(FEED, "not json", content_type="application/json", **auth(key)).status_code == 400
    assert not CreditRecord.objects.exists()


def test_feeds_need_a_live_platform_token(client, cast, platform, platform_token, unit_token):
    person = cast["learner"]
    assert client.post(FEED, {"records": [record(person, "A-1")]}, content_type="application/json").status_code == 401
    assert post_batch(client, "cme_00000000_forged", [record(person, "A-1")]).status_code == 401
    assert post_batch(client, unit_token[1], [record(person, "A-1")]).status_code == 403
    platform.active = False
    platform.save()
    refused = post_batch(client, platform_token[1], [record(person, "A-1")])
    assert refused.status_code == 403 and "停止数据对接" in refused.json()["detail"]
    assert not CreditRecord.objects.exists()


# --- units' systems -------------------------------------------------------------------------------


@pytest.fixture
def people(tree):
    mine = learner(unit=tree["unit_a"], name="甲一")
    mine.profile.department = "心内科"
    mine.profile.save()
    ledger_row(mine, year=date.today().year, credits=D("8"))
    other_here = learner(unit=tree["unit_a"], name="甲二")
    theirs = learner(unit=tree["unit_b"], name="乙一")
    ledger_row(theirs, year=date.today().year, credits=D("9"))
    return {"mine": mine, "other_here": other_here, "theirs": theirs}


def test_a_unit_token_never_sees_another_units_learners(client, cast, people, unit_token):
    body = client.get(LEARNERS, **auth(unit_token[1])).json()
    names = {row["name"] for row in body["results"]}
    assert {"甲一", "甲二"} <= names and "乙一" not in names and "孙学员" not in names
    assert body["count"] == len(body["results"])
    row = next(r for r in body["results"] if r["name"] == "甲一")
    assert row["class_i"] == "8.0" and row["compliant"] is False and row["unit"]["name"] == "甲市人民医院"
    # Another unit's id in the filter is 404, never its learners.
    assert client.get(LEARNERS, {"unit": cast["other_learner"].profile.unit_id}, **auth(unit_token[1])).status_code == 404


def test_a_city_token_sees_its_units_and_filters_by_department_and_year(client, cast, tree, people):
    _token, key = make_token(cast["province_admin"], kind=TokenKind.UNIT, org=tree["city_a"])
    body = client.get(LEARNERS, {"department": "心内科"}, **auth(key)).json()
    assert [row["name"] for row in body["results"]] == ["甲一"]
    last_year = client.get(LEARNERS, {"year": date.today().year - 1}, **auth(key)).json()
    assert all(row["class_i"] == "0.0" for row in last_year["results"])
    assert "乙一" not in {row["name"] for row in client.get(LEARNERS, **auth(key)).json()["results"]}


def test_numbers_are_masked_unless_the_province_allows(client, cast, tree, people, unit_token):
    person = people["mine"]
    masked = next(r for r in client.get(LEARNERS, **auth(unit_token[1])).json()["results"] if r["name"] == "甲一")
    assert masked["id_number"] != person.id_number and "*" in masked["id_number"]
    assert masked["mobile"] == f"{person.mobile[:3]}****{person.mobile[-4:]}"
    _token, key = make_token(cast["province_admin"], kind=TokenKind.UNIT, org=tree["unit_a"], include_personal=True)
    full = next(r for r in client.get(LEARNERS, **auth(key)).json()["results"] if r["name"] == "甲一")
    assert (full["id_number"], full["mobile"]) == (person.id_number, person.mobile)


def test_the_list_is_paginated(client, tree, people, unit_token):
    first = client.get(LEARNERS, {"page_size": 1}, **auth(unit_token[1])).json()
    assert len(first["results"]) == 1 and first["next"] and first["count"] >= 2
    assert client.get(LEARNERS, {"page": 99}, **auth(unit_token[1])).status_code == 404


@pytest.mark.parametrize("name", ["page", "page_size", "year", "unit"])
def test_an_empty_number_in_the_query_is_refused_not_read_as_absent(client, people, unit_token, name):
    response = client.get(LEARNERS, {name: ""}, **auth(unit_token[1]))
    assert response.status_code == 400 and name in response.json()["detail"]


def test_compliance_needs_a_unit_token(client, people, platform_token):
    assert client.get(LEARNERS).status_code == 401
    assert client.get(LEARNERS, **auth(platform_token[1])).status_code == 403


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_shown_once(client, cast, platform):
    client.force_login(cast["province_admin"])
    page = client.post(reverse("integrations:tokens"), {"kind": "platform", "name": "华医网推送", "platform": platform.pk})
    key = page.context["new_key"]
    assert key.startswith("cme_") and key in page.content.decode()
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.prefix) and len(token.key_hash) == 64
    assert key not in client.get(reverse("integrations:tokens")).content.decode()
    assert client.get(reverse("api:token"), **auth(key)).json()["platform"] == platform.name


def test_a_revoked_token_is_refused_at_once_and_a_rotated_one_replaced(client, cast, people, unit_token):
    token, key = unit_token
    client.force_login(cast["province_admin"])
    rotated = client.post(reverse("integrations:rotate", args=[token.pk]))
    new_key = rotated.context["new_key"]
    assert client.get(LEARNERS, **auth(key)).status_code == 401
    assert client.get(LEARNERS, **auth(new_key)).status_code == 200
    new = ApiToken.objects.get(replaces=token)
    client.post(reverse("integrations:revoke", args=[new.pk]))
    answer = client.get(LEARNERS, **auth(new_key))
    assert answer.status_code == 401 and "已停用" in answer.json()["detail"]


def test_only_the_province_admin_manages_tokens(client, cast, tree, unit_token):
    token, _key = unit_token
    client.force_login(cast["unit_admin"])
    assert client.get(reverse("integrations:tokens")).status_code == 404
    assert client.post(reverse("integrations:revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.active
    client.logout()
    assert client.get(reverse("integrations:calls")).status_code == 302


def test_a_unit_token_needs_a_node(client, cast):
    client.force_login(cast["province_admin"])
    page = client.post(reverse("integrations:tokens"), {"kind": "unit", "name": "人事系统"})
    assert page.status_code == 200 and "请选择单位" in page.content.decode()
    assert not ApiToken.objects.exists()


# --- limits and the record of calls --------------------------------------------------------------


def test_calls_are_rate_limited_per_token(client, settings, people, unit_token, cast, tree):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    key = unit_token[1]
    assert [client.get(LEARNERS, **auth(key)).status_code for _ in range(3)] == [200, 200, 429]
    _other, other_key = make_token(cast["province_admin"], kind=TokenKind.UNIT, org=tree["unit_a"])
    assert client.get(LEARNERS, **auth(other_key)).status_code == 200


def test_every_call_is_recorded_with_its_counts(client, cast, platform_token):
    token, key = platform_token
    person = cast["learner"]
    post_batch(client, key, [record(person, "L-001"), record(person, "L-002", name="别人")])
    call = ApiCall.objects.get(token=token)
    assert (call.method, call.status, call.records, call.imported, call.refused) == ("POST", 200, 2, 1, 1)
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.force_login(cast["province_admin"])
    page = client.get(reverse("integrations:calls"), {"token": token.pk})
    assert page.status_code == 200 and list(page.context["calls"]) == [call]
    # Another province admin's page would not list it: the log is read through the admin's tokens.
    assert staff(Role.PROVINCE_ADMIN, cast["province_admin"].scope_nodes(Role.PROVINCE_ADMIN).first())


def test_the_schema_and_the_docs_page_are_published(client):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/platform/credits/" in schema.content.decode()
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.content.decode()
    assert "<style>" not in docs.content.decode()
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_a_full_batch_of_1000_records_imports_once(client, tree, platform_token):
    """The largest batch allowed: 1,000 records of 20 learners, then the same batch again (all skipped)."""
    people = [learner(unit=tree["unit_a"], name=f"远程{n}") for n in range(20)]
    batch = [
        record(people[n % 20], f"F-{n:04d}", project_number=f"2026-{n // 50 + 1:02d}-01-{n % 50:03d}（国）") for n in range(1000)
    ]
    first = post_batch(client, platform_token[1], batch).json()
    assert (first["imported"], first["skipped"], first["refused"]) == (1000, 0, 0)
    again = post_batch(client, platform_token[1], batch).json()
    assert (again["imported"], again["skipped"]) == (0, 1000)
    assert CreditRecord.objects.filter(source="platform").count() == 1000


def test_an_unknown_query_parameter_is_refused(client, people, unit_token):
    answer = client.get(LEARNERS, {"deparment": "心内科"}, **auth(unit_token[1]))
    assert answer.status_code == 400 and "deparment" in str(answer.json()["detail"])


def test_characters_no_database_holds_refuse_one_record_not_the_batch(client, cast, platform_token):
    """A NUL in a document number or record id would break PostgreSQL's query: it is refused, never sent."""
    person = cast["learner"]
    batch = [record(person, "N-001", id_number="3301\x00"), record(person, "N\x00002"), record(person, "N-003")]
    body = post_batch(client, platform_token[1], batch).json()
    assert [r["status"] for r in body["results"]] == ["refused", "refused", "imported"]
    assert {r["code"] for r in body["results"][:2]} == {"bad_format"}


def test_every_api_url_answers_401_without_a_token_and_never_500(client):
    """Issue 16's URL × role sweep: each /api/v1/ operation refuses a stranger; only the description is public."""
    from cme_portal.api.urls import urlpatterns

    public = {"schema", "docs"}
    for pattern in urlpatterns:
        url = reverse(f"api:{pattern.name}")
        for method in ("get", "post", "put", "delete"):
            status = getattr(client, method)(url).status_code
            if pattern.name in public:
                assert status in (200, 405), (url, method, status)
            else:
                assert status == 401, (url, method, status)


def test_token_services_refuse_what_does_not_fit(cast, tree, platform):
    from cme_portal.accounts.models import Organisation, OrgKind
    from cme_portal.errors import DomainError

    admin = cast["province_admin"]
    refusals = [
        (dict(admin=admin, kind=TokenKind.PLATFORM, name=" "), "name_required"),
        (dict(admin=admin, kind=TokenKind.PLATFORM, name="甲"), "platform_required"),
        (dict(admin=admin, kind="other", name="甲"), "kind_required"),
        (dict(admin=admin, kind=TokenKind.UNIT, name="甲", org=tree["dept_a"]), "org_required"),
        (dict(admin=cast["unit_admin"], kind=TokenKind.PLATFORM, name="甲", platform=platform), "forbidden"),
    ]
    elsewhere = Organisation.objects.create(name="外省", kind=OrgKind.PROVINCE)
    refusals.append((dict(admin=admin, kind=TokenKind.UNIT, name="甲", org=elsewhere), "forbidden"))
    for fields, code in refusals:
        with pytest.raises(DomainError) as refused:
            api_services.create_token(**fields)
        assert refused.value.code == code, fields
    assert not ApiToken.objects.exists()
    token, _key = api_services.create_token(admin=admin, kind=TokenKind.PLATFORM, name="甲", platform=platform)
    api_services.revoke_token(token, admin)
    with pytest.raises(DomainError) as refused:
        api_services.rotate_token(token, admin)
    assert refused.value.code == "revoked"
    with pytest.raises(DomainError):
        api_services.revoke_token(ApiToken.objects.get(), cast["unit_admin"])


def test_every_call_is_one_structured_log_line(client, cast, platform_token, caplog):
    token, key = platform_token
    with caplog.at_level("INFO", logger="cme.api"):
        post_batch(client, key, [record(cast["learner"], "G-001"), record(cast["learner"], "G-002", credits="0")])
        client.get(LEARNERS)  # no token: logged too, with no row to keep
    lines = [r for r in caplog.records if r.getMessage() == "api_call"]
    assert [(r.token_id, r.method, r.status, r.records, r.imported, r.refused) for r in lines] == [
        (token.pk, "POST", 200, 2, 1, 1),
        (None, "GET", 401, 0, 0, 0),
    ]
    assert ApiCall.objects.count() == 1


def test_old_calls_are_purged(client, platform_token, settings):
    from cme_portal.api.tasks import purge_old_api_calls

    token, key = platform_token
    client.get(reverse("api:token"), **auth(key))
    client.get(reverse("api:token"), **auth(key))
    old = ApiCall.objects.order_by("pk").first()
    ApiCall.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=settings.API_CALL_LOG_DAYS + 1))
    assert purge_old_api_calls() == 1
    assert ApiCall.objects.filter(token=token).count() == 1


def test_the_list_takes_the_same_queries_for_few_or_many_learners(client, tree, people, unit_token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LEARNERS, {"page_size": page_size}, **auth(unit_token[1])).status_code == 200
        return len(captured)

    few = queries(2)
    for n in range(20):
        learner(unit=tree["unit_a"], name=f"多{n}")
    assert queries(25) == few
