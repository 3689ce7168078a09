"""The one error type services raise: a message for the person, a code for machines."""

from django.utils.html import format_html


class DomainError(Exception):
    """A rule said no. ``message`` is translated and tells the person what to do next;
    ``code`` is stable (tests, denied-attempt records, API answers)."""

    def __init__(self, message, code="invalid", field=None, link=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.link = link  # (address, text) of a page that helps, shown beside the message

    def html(self):
        """The message, with its link when it has one (escaped)."""
        if not self.link:
            return self.message
        return format_html('{} <a href="{}">{}</a>', self.message, self.link[0], self.link[1])

    def __str__(self):
        return str(self.message)

    def add_to(self, form):
        """Show the refusal on the form field it names, or on the form when it names none of its fields."""
        form.add_error(self.field if self.field in form.fields else None, self.html())
