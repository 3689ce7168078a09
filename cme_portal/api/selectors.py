"""Reads of the API: a unit token's learners with their verdicts, tokens and calls for the province admin."""

from datetime import date

from django.http import Http404
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import Organisation, OrgKind, Role, StaffCategory
from cme_portal.accounts.validators import mask_id_number, mask_mobile
from credits import compliance
from credits.models import RequirementRule

from .models import ApiCall, ApiToken


def rules_or_defaults(province, year):
    """The province's rules for ``year`` by staff category, the national defaults (unsaved) where it set none.

    A read never writes: unlike ``compliance.rules_for`` nothing is created for a year asked about.
    """
    saved = {rule.staff_category: rule for rule in RequirementRule.objects.filter(province=province, year=year)}
    rules = {}
    for category in StaffCategory.values:
        rules[category] = saved.get(category) or RequirementRule(
            province=province, year=year, staff_category=category, **compliance.national_defaults(category)
        )
    return rules


def token_learners(token, *, year=None, department="", unit=None):
    """Learners under the unit token's node with their sums and verdicts for ``year`` (default this year).

    ``unit`` narrows to one unit, which must lie under the token's node (else 404); ``department`` is the
    profile's department as written. One aggregate query (credits/compliance.py), ordered for paging.
    """
    node = token.org
    year = year or date.today().year
    if unit is not None:
        node = Organisation.objects.filter(pk=unit, kind=OrgKind.UNIT, path__startswith=token.org.path).first()
        if node is None:
            raise Http404
    rules = rules_or_defaults(compliance.province_of(token.org), year)
    learners = compliance.learners_with_compliance(node, year, rules).select_related("user", "unit")
    if department:
        learners = learners.filter(department=department.strip())
    return learners.order_by("unit__path", "user__name", "pk"), year


def learner_row(profile, year, *, include_personal):
    """One learner as the API answers it: numbers masked unless the province allowed this token to see them."""
    user = profile.user
    return {
        "learner_id": user.pk,
        "name": user.name,
        "id_number": user.id_number if include_personal else mask_id_number(user.id_number),
        "mobile": (user.mobile if include_personal else mask_mobile(user.mobile)) or None,
        "unit": {"id": profile.unit_id, "name": profile.unit.name},
        "department": profile.department,
        "staff_category": profile.staff_category,
        "year": year,
        "class_i": profile.c1,
        "class_ii": profile.c2,
        "national_five_years": profile.national5,
        "advanced_study_months": profile.advanced,
        "compliant": profile.compliant,
    }


# --- the province admin's pages --------------------------------------------------------------


def province_of_admin(admin):
    return admin.scope_nodes(Role.PROVINCE_ADMIN).first()


def tokens_for(admin):
    """Tokens the province admin manages: platform tokens and unit tokens of nodes in the province."""
    province = province_of_admin(admin)
    if province is None:
        return ApiToken.objects.none()
    from django.db.models import Q

    return ApiToken.objects.filter(Q(org__isnull=True) | Q(org__path__startswith=province.path)).select_related(
        "platform", "org", "created_by", "revoked_by"
    )


def get_token(admin, pk):
    return get_object_or_404(tokens_for(admin), pk=pk)


def calls_for(admin, token_id=None):
    calls = ApiCall.objects.filter(token__in=tokens_for(admin).values("pk")).select_related("token")
    if token_id:
        calls = calls.filter(token_id=token_id)
    return calls.order_by("-created_at", "-pk")
