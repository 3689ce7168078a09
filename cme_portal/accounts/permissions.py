"""Who may open what. Pages of a role answer 404 to everyone else (DESIGN.md §3)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from .models import Role

# The order a person with several roles is greeted in: the widest first.
ROLE_PRIORITY = [Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.UNIT_ADMIN, Role.ORGANISER, Role.LEARNER]


def role_required(*roles):
    """Let through signed-in people holding one of ``roles``; send others to login or 404."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_role(role) for role in roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def primary_role(user):
    held = user.role_set()
    return next((role for role in ROLE_PRIORITY if role in held), None)
