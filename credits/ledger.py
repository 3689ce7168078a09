"""Revisions of the ledger: a row that stands again after a reversal is the next revision of its activity.

The unique constraints hold one standing row per (learner, activity) and per (learner, session) and
revision; a cancelled credit keeps its revision-0 row (reversed), so anything that enters the activity
again takes the next number.
"""

from django.db.models import Max, Q

from .models import CreditRecord


def next_revisions(learner_ids, activity_key="", session_id=None):
    """{learner id: the revision a new row of this activity (or session) takes}: 0, or one past the highest."""
    condition = Q()
    if activity_key:
        condition |= Q(activity_key=activity_key)
    if session_id:
        condition |= Q(session_id=session_id)
    if not condition:
        return {learner_id: 0 for learner_id in learner_ids}
    highest = dict(
        CreditRecord.objects.filter(condition, learner_id__in=list(learner_ids))
        .values("learner_id")
        .annotate(top=Max("revision"))
        .values_list("learner_id", "top")
    )
    return {learner_id: (highest[learner_id] + 1 if learner_id in highest else 0) for learner_id in learner_ids}
