from django.contrib.auth.backends import ModelBackend

from .models import User


class IdentifierBackend(ModelBackend):
    """Log in with the document number or the mobile number; locked accounts cannot."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = User.objects.find_by_identifier(username)
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_locked
