"""The one review mechanism's records: an event per transition, and notifications (W8)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReviewableQuerySet(models.QuerySet):
    """Reads of a reviewable kind, always through the viewer's scope (DESIGN.md §3).

    ``visible_to`` is what a person may open (owner, or a reviewer role whose
    node holds the object); ``in_scope_of`` is a role's whole subtree, any
    state; ``waiting_for`` is that role's queue. Views read through these, never
    through the bare manager (tests/test_scoped_reads.py checks).
    """

    def visible_to(self, user):
        workflow = self.model.workflow
        if not getattr(user, "is_authenticated", False):
            return self.none()
        condition = Q(**{f"{workflow.owner_field}_id": user.pk})
        for role in workflow.reviewer_roles():
            if user.role_paths(role):
                condition |= user.scope_q(role, workflow.scope_path)
        return self.filter(condition)

    def in_scope_of(self, user, role):
        return self.filter(user.scope_q(role, self.model.workflow.scope_path))

    def waiting_for(self, user, role):
        return self.in_scope_of(user, role).filter(state__in=self.model.workflow.queue_states(role))


class Reviewable(models.Model):
    """An object whose state moves only through its Workflow (``perform``).

    Subclasses set ``workflow`` and declare ``state`` with their own choices.
    """

    workflow = None

    state_changed_at = models.DateTimeField(_("状态更新时间"), null=True, blank=True)

    objects = ReviewableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def state_style(self):
        return self.workflow.style_of(self.state)

    @property
    def review_version(self):
        """The state as a page showed it: a batch decision on an object whose version changed since is stale."""
        changed = self.state_changed_at
        return f"{self.state}.{int(changed.timestamp() * 1_000_000) if changed else 0}"


class ReviewEvent(models.Model):
    """Who moved what from which state to which, when, and why. Never edited."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    action = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(_("原状态"), max_length=32)
    to_state = models.CharField(_("新状态"), max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人"))
    actor_role = models.CharField(_("身份"), max_length=20, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="review_event_subject")]

    def __str__(self):
        return f"{self.action}: {self.from_state} → {self.to_state}"


class Notification(models.Model):
    """A message in the portal's inbox; e-mail and SMS copies go out from the same task."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(_("内容"), max_length=300)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    event = models.ForeignKey(ReviewEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    # What it tells of (cme_portal.notifications.kinds.Kind) and, for events outside the review mechanism
    # (a certificate drawn, an account handed over), a key that makes telling twice impossible.
    kind = models.CharField(_("类型"), max_length=24, blank=True, default="")
    key = models.CharField(max_length=100, blank=True, default="")
    # The message's Chinese msgid and parameters (cme_portal.notifications.text): the inbox shows it in the
    # reader's language; ``message`` keeps it in the portal's default language for e-mail and SMS.
    template = models.CharField(max_length=300, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [
            # The inbox (a person's newest first) and its unread badge, however many the province admin has.
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notification_once_per_event"),
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notification_once_per_key"),
        ]

    @property
    def text(self):
        """The message in the active language (messages written before issue 13: as they were written)."""
        if not self.template:
            return self.message
        from cme_portal.notifications.text import render

        return render(self.template, self.params)
