"""Schema-driven tests (issue 14, item 3): schemathesis generates requests from the published OpenAPI schema
for every operation, a bounded number per operation, and checks that none answers 500, that every answer
matches the schema, and that no answer carries data outside the token's scope.

The figures of the last run (operations, examples, failures) are written to
test-artifacts/schemathesis.json and printed by ``pytest tests/test_api_schema.py -s``.
"""

import json
from collections import Counter
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cme_portal.api import services as api_services
from cme_portal.api.models import TokenKind
from credits.models import Platform

from .factories import learner, ledger_row

MAX_EXAMPLES = 25
FIGURES = Path(__file__).resolve().parent.parent / "test-artifacts" / "schemathesis.json"
examples = Counter()
statuses = Counter()
scope = {}


def _load_schema():
    """The schema /api/v1/schema/ publishes (drf-spectacular's generator, the view's own), called on the
    portal's WSGI application. Loaded at import: schemathesis' fixture loader does not run under pytest 9."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(SchemaGenerator(api_version="v1").get_schema(request=None, public=True))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@schemathesis.check
def within_token_scope(ctx, response, case):
    """No answer names a learner or a unit outside the token's node, nor another token's platform."""
    if response.status_code != 200 or "token" not in scope or response.request.method != case.operation.method.upper():
        return None
    body = response.json()
    path = case.operation.path
    if path.endswith("/compliance/learners/"):
        outside = [row for row in body["results"] if row["unit"]["id"] not in scope["unit_ids"]]
        assert not outside, f"learners outside the token's scope: {outside}"
        strangers = [row for row in body["results"] if row["learner_id"] in scope["strangers"]]
        assert not strangers, f"another unit's learners answered: {strangers}"
        leaked = [row for row in body["results"] if "*" not in row["id_number"]]
        assert not leaked, f"unmasked document numbers: {leaked}"
    elif path.endswith("/token/"):
        assert body["prefix"] in scope["prefixes"], body
    return None


@pytest.fixture
def keep_the_test_connection():
    """Requests reach the WSGI handler directly (not through Django's test client), so, like that client,
    keep Django from closing the test's connection at each request (on PostgreSQL it is inside a transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(cast, tree, settings, keep_the_test_connection):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    admin = cast["province_admin"]
    platform = Platform.objects.filter(active=True).order_by("name").first()
    platform_token, platform_key = api_services.create_token(admin=admin, kind=TokenKind.PLATFORM, name="平台", platform=platform)
    unit_token, unit_key = api_services.create_token(admin=admin, kind=TokenKind.UNIT, name="单位", org=tree["unit_a"])
    here = learner(unit=tree["unit_a"], name="甲学员")
    ledger_row(here, year=date.today().year, credits=D("6"))
    stranger = learner(unit=tree["unit_b"], name="乙学员")
    ledger_row(stranger, year=date.today().year, credits=D("7"))
    scope.update(
        token=True,
        unit_ids={tree["unit_a"].pk},
        strangers={stranger.pk, cast["other_learner"].pk},
        prefixes={platform_token.prefix, unit_token.prefix},
    )
    return {"platform": platform_key, "unit": unit_key}


def _key_for(case, tokens):
    return tokens["platform"] if "/platform/" in case.operation.path else tokens["unit"]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_its_schema_and_its_scope(case, tokens):
    # identity: the test transport hands back the bytes as sent, and pages are gzipped for clients that ask.
    headers = {"Authorization": f"Bearer {_key_for(case, tokens)}", "Accept-Encoding": "identity"}
    response = case.call_and_validate(headers=headers)
    label = f"{case.operation.method.upper()} {case.operation.path}"
    examples[label] += 1
    statuses[f"{label} {response.status_code}"] += 1
    assert response.status_code < 500
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(
        json.dumps(
            {"operations": len(examples), "examples": dict(examples), "statuses": dict(statuses)}, ensure_ascii=False, indent=1
        )
    )


def test_the_schema_declares_every_api_operation(client):
    """The figures above cover every operation: the schema lists the three of v1, each behind a token."""
    spec = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [(path, method) for path, item in spec["paths"].items() for method in item]
    assert sorted(operations) == [
        ("/api/v1/compliance/learners/", "get"),
        ("/api/v1/platform/credits/", "post"),
        ("/api/v1/token/", "get"),
    ]
    assert all(spec["paths"][p][m]["security"] == [{"bearerToken": []}] for p, m in operations)
