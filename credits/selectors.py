"""Reads of the credits app: entries through the viewer's scope, the ledger, the unit's learners."""

from datetime import date

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404

from cme_portal.accounts.models import Role, User

from .models import CreditEntry, CreditRecord, EarlyReviewRequest


def entries():
    """Credit entries with their learner and unit, and whether an early review covers the learner today."""
    early = EarlyReviewRequest.objects.filter(candidates=OuterRef("learner"), deadline__gte=date.today())
    return CreditEntry.objects.select_related("learner", "unit").annotate(early=Exists(early))


def get_entry(user, pk, *, own=False):
    """The entry ``pk`` if ``user`` entered it or reviews it within scope (``own``: only the learner); else 404."""
    queryset = entries().visible_to(user)
    if own:
        queryset = queryset.filter(learner_id=user.pk)
    return get_object_or_404(queryset, pk=pk)


def get_evidence(user, public_id):
    """The entry whose evidence PDF ``user`` asks for, within scope; else 404."""
    return get_object_or_404(CreditEntry.objects.visible_to(user), public_id=public_id)


def my_entries(user, limit=50):
    return entries().filter(learner=user).order_by("-created_at")[:limit]


def ledger(learner):
    """The learner's history, newest first, reversals and corrections included."""
    return CreditRecord.objects.filter(learner=learner).select_related("reverses").order_by("-year", "-created_at", "-pk")


def unit_learners(user):
    """Learners of the units under the unit admin's node."""
    return User.objects.filter(user.scope_q(Role.UNIT_ADMIN, "profile__unit__path")).order_by("name")


def early_reviews(user):
    return (
        EarlyReviewRequest.objects.filter(user.scope_q(Role.UNIT_ADMIN, "unit__path"))
        .select_related("unit", "requested_by")
        .prefetch_related("candidates")
    )
