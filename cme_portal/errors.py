"""The one error type services raise: a message for the person, a code for machines."""


class DomainError(Exception):
    """A rule said no. ``message`` is translated and tells the person what to do next;
    ``code`` is stable (tests, denied-attempt records, API answers)."""

    def __init__(self, message, code="invalid", field=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self):
        return str(self.message)

    def add_to(self, form):
        """Show the refusal on the form field it names, or on the form when it names none of its fields."""
        form.add_error(self.field if self.field in form.fields else None, self.message)
