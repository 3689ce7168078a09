"""Every state change and refusal of note leaves one structured log line: who, what, which object."""

import json
import logging

import pytest

from cme_portal.errors import DomainError
from cme_portal.logs import JsonFormatter, ReadableFormatter
from projects import services as project_services
from projects.models import HOSTING_WORKFLOW

from .factories import session_for

pytestmark = pytest.mark.django_db


def test_a_transition_and_a_refusal_are_logged(cast, caplog):
    session = session_for(cast["organiser"])
    with caplog.at_level(logging.INFO, logger="cme.review"):
        project_services.submit(session, cast["organiser"])
        with pytest.raises(DomainError):
            HOSTING_WORKFLOW.review(session, cast["other_unit_admin"], "forward")
    done, refused = [r for r in caplog.records if r.name == "cme.review"]
    assert (done.getMessage(), done.workflow, done.action, done.object_id, done.actor_id, done.to_state) == (
        "transition",
        "hosting",
        "submit",
        session.pk,
        cast["organiser"].pk,
        "submitted",
    )
    assert (refused.getMessage(), refused.code, refused.actor_id) == ("refused", "forbidden", cast["other_unit_admin"].pk)


def test_production_lines_are_json_and_make_run_lines_are_readable():
    record = logging.LogRecord("cme.review", logging.INFO, __file__, 1, "transition", (), None)
    record.workflow, record.object_id = "roster", 7
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["workflow"], line["object_id"], line["level"]) == ("transition", "roster", 7, "INFO")
    assert ReadableFormatter("%(name)s %(message)s").format(record) == "cme.review transition workflow=roster object_id=7"
