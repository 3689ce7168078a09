"""Reads of accounts: a person's own profile."""

from .models import LearnerProfile


def profile_of(user):
    """The person's learner profile with its unit, or None."""
    return LearnerProfile.objects.filter(user=user).select_related("unit").first()


def own_profile(user):
    """The person's profile, made empty on first visit (the profile page edits it)."""
    profile, _created = LearnerProfile.objects.get_or_create(user=user)
    return profile


def recent_handovers(admin, limit=20):
    """Hand-overs this admin made, newest first (a province admin sees every one)."""
    from .models import AccountHandover, Role

    rows = AccountHandover.objects.select_related("user", "by")
    if not admin.has_role(Role.PROVINCE_ADMIN):
        rows = rows.filter(by=admin)
    return rows[:limit]
