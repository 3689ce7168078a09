"""Views read scoped objects only through selectors (DESIGN.md §3: everything filtered by scope on the server).

A view module that names a scoped model's bare manager (``CreditEntry.objects``,
``Session._default_manager`` …) fails here: it must call the app's selector,
whose loaders answer 404 outside the viewer's scope. New reviewable kinds are
scoped automatically; the other personal or scoped models are listed.
"""

import ast
from pathlib import Path

from django.apps import apps

from cme_portal.review.models import Reviewable

ROOT = Path(__file__).resolve().parent.parent
APPS = ["cme_portal", "projects", "attendance", "credits", "certificates"]
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Personal or scoped data that is not itself reviewable.
LISTED = {
    "Material",
    "Attendance",
    "SurveyResponse",
    "DeniedScan",
    "RosterSelection",
    "CreditRecord",
    "PlatformRecord",
    "EarlyReviewRequest",
    "Certificate",
    "BulkDownload",
    "Notification",
    "ReviewEvent",
    "LearnerProfile",
    "SmsCode",
    "ProblemReport",
}


def scoped_models():
    reviewable = {model.__name__ for model in apps.get_models() if issubclass(model, Reviewable)}
    return reviewable | LISTED


def view_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path.name == "views.py" or path.name.endswith("_views.py") or path.parent.name == "views":
                yield path


def bare_manager_uses(path, names, root=ROOT):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in MANAGERS
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            yield f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}"


def test_the_listed_models_exist():
    names = {model.__name__ for model in apps.get_models()}
    assert LISTED <= names, LISTED - names


def test_views_never_touch_a_scoped_models_bare_manager():
    names = scoped_models()
    modules = list(view_modules())
    assert len(modules) >= 8  # the scan found the portal's views
    found = [use for path in modules for use in bare_manager_uses(path, names)]
    assert found == [], "read these through the app's selectors.py:\n" + "\n".join(found)


def test_the_scan_catches_a_bare_manager(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("from credits.models import CreditEntry\n\ndef page(request):\n    return CreditEntry.objects.get(pk=1)\n")
    assert list(bare_manager_uses(sample, scoped_models(), root=tmp_path)) == ["views.py:4 CreditEntry.objects"]
