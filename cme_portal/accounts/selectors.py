"""Reads of accounts: a person's own profile."""

from .models import LearnerProfile


def profile_of(user):
    """The person's learner profile with its unit, or None."""
    return LearnerProfile.objects.filter(user=user).select_related("unit").first()


def own_profile(user):
    """The person's profile, made empty on first visit (the profile page edits it)."""
    profile, _created = LearnerProfile.objects.get_or_create(user=user)
    return profile
