"""The one review mechanism (DESIGN.md §5): hosting applications, rosters and credit
entries each declare a Workflow; `perform` is the only way their state changes.

A workflow names its transitions: which states they leave from, the state they
reach, who may take them (the object's owner, or a role whose tree node holds
the object), and whether a reason is required. Every transition locks the row,
re-checks the state under the lock (two reviewers acting at once: one wins, the
other is told), runs the transition's declared effect in the same transaction,
writes a ReviewEvent, logs it and queues notifications after commit.

Effects are named by dotted path on the transition (``effect="attendance.
services.award_selected"``), so they are there in every process that loads the
models: a worker or a management command that calls ``perform`` awards exactly
what a web request would.
"""

import logging
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from cme_portal.accounts.models import Role, RoleAssignment
from cme_portal.errors import DomainError

from .models import ReviewEvent
from .signals import event_recorded

OWNER = "owner"
log = logging.getLogger("cme.review")


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple
    target: str
    actor: str  # OWNER or a Role value
    reason_required: bool = False
    style: str = "primary"
    # Only objects for which guard(obj) is true may take it; in_queue=False keeps
    # its source states out of the actor's queue (a step they take on their own input).
    guard: object = None
    in_queue: bool = True
    # Asked for a second time before it is taken (withdrawals, cancellations); a reason may be given.
    confirm: bool = False
    # Taken only by another transition's effect (perform), never offered as a button nor taken through review().
    internal: bool = False
    # Dotted path of callable(obj, event) run inside the transition's transaction;
    # a DomainError it raises undoes the transition.
    effect: str = ""

    def run_effect(self, obj, event):
        if self.effect:
            import_string(self.effect)(obj, event)


@dataclass(frozen=True)
class QueueLevel:
    """One reviewer level's queue of a workflow: its URL slug, role and titles."""

    slug: str
    role: str
    title: str
    nav_label: str


@dataclass
class Workflow:
    """Transitions of one kind of reviewable object.

    ``scope_path`` is the lookup from the object to the tree path its reviewers'
    scope is checked against (e.g. "unit__path"); ``owner_field`` names the
    user who files and resubmits it.
    """

    name: str
    transitions: list
    scope_path: str
    owner_field: str = "owner"
    # The review queues (one per reviewer level) and what the one queue view needs
    # to show them: the URL name, a selector for rows, a FilterSet, a results template.
    levels: tuple = ()
    url_name: str = ""
    selector: str = ""
    filterset: str = ""
    results_template: str = ""
    empty_message: str = ""
    # Badge colours derived from the transitions; ``styles`` overrides a state's.
    styles: dict = field(default_factory=dict)
    # People the object is about besides its owner (a correction's learner): told of decisions, and,
    # like the owner, never its reviewer.
    subject_fields: tuple = ()

    def __post_init__(self):
        self._by_action = {t.action: t for t in self.transitions}
        self._levels = {level.slug: level for level in self.levels}

    def get(self, action):
        try:
            return self._by_action[action]
        except KeyError:
            raise DomainError(_("未知的操作。"), code="unknown_action") from None

    def level(self, slug):
        return self._levels.get(slug)

    def style_of(self, state):
        """Bootstrap colour of ``state``'s badge: decided is green, returned red, waiting amber."""
        if state in self.styles:
            return self.styles[state]
        leaving = [t for t in self.transitions if state in t.sources]
        reaching = [t for t in self.transitions if t.target == state]
        if any(t.reason_required for t in reaching):
            return "danger"
        if reaching and not leaving:
            return "success"
        if any(t.actor != OWNER and t.in_queue for t in leaving):
            return "warning"
        return "secondary"

    # --- who may act --------------------------------------------------------
    def object_path(self, obj):
        value = obj
        for part in self.scope_path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return ""
        return value

    def concerns(self, obj, user):
        """Whether ``obj`` is ``user``'s own: they filed it or it is about them."""
        return any(getattr(obj, f"{name}_id", None) == user.pk for name in (self.owner_field, *self.subject_fields))

    def may_act(self, transition, obj, user):
        if transition.guard is not None and not transition.guard(obj):
            return False
        if transition.actor == OWNER:
            return getattr(obj, f"{self.owner_field}_id") == user.pk
        # Nobody reviews their own: a reviewer who is also the learner or applicant is refused, and the
        # object waits for a colleague (steps a reviewer takes on their own input, in_queue=False, excepted).
        if transition.in_queue and self.concerns(obj, user):
            return False
        return user.in_scope(transition.actor, self.object_path(obj))

    def available(self, obj, user):
        """Transitions ``user`` may take on ``obj`` now: the buttons to show."""
        return [t for t in self.transitions if obj.state in t.sources and not t.internal and self.may_act(t, obj, user)]

    def reviewer_roles(self):
        return sorted({t.actor for t in self.transitions if t.actor != OWNER})

    def queue_states(self, role):
        return sorted({s for t in self.transitions if t.actor == role and t.in_queue for s in t.sources})

    def review(self, obj, user, action, reason="", *, seen=None):
        """A reviewer's decision (forward, approve, return …) on ``obj``; return the ReviewEvent.

        Owner transitions (submit, resubmit) are refused here: they go through the
        app's own service, which checks what must be there first. ``seen``: the
        object's ``review_version`` when the page showed it (a batch decision); a
        changed version is refused as stale.
        """
        transition = self.get(action)
        if transition.actor == OWNER or transition.internal:
            raise DomainError(_("未知的操作。"), code="unknown_action")
        return perform(self, obj, action, user, reason, seen=seen)

    def batch_transitions(self, role):
        """The decisions ``role`` may take on several objects at once from its queue: its queue's own steps,
        those asked twice (withdrawals) excepted."""
        return [t for t in self.transitions if t.actor == role and t.in_queue and not t.internal and not t.confirm]

    # --- who hears about it -------------------------------------------------
    def recipients(self, obj, transition):
        """The owner when it comes back to them or is decided; else the next reviewers.

        Steps nobody waits for (internal ones, a reviewer's own withdrawals) name no next reviewer: an
        approved entry is decided, and its learner is told.
        """
        next_actors = {
            t.actor
            for t in self.transitions
            if transition.target in t.sources and not t.internal and (t.in_queue or t.actor == OWNER)
        }
        user_ids = set()
        if OWNER in next_actors or not next_actors:
            user_ids.add(getattr(obj, f"{self.owner_field}_id"))
            user_ids |= {getattr(obj, f"{name}_id", None) for name in self.subject_fields}
        roles = next_actors - {OWNER}
        if roles:
            ancestor_ids = [int(part) for part in self.object_path(obj).strip("/").split("/") if part]
            user_ids |= set(
                RoleAssignment.objects.filter(role__in=roles, org_id__in=ancestor_ids).values_list("user_id", flat=True)
            )
        user_ids.discard(None)
        return user_ids


def perform(workflow, obj, action, actor, reason="", *, seen=None):
    """Take transition ``action`` on ``obj`` as ``actor``; return the ReviewEvent.

    Raises DomainError when the actor may not take it ("forbidden"), the object
    is no longer in a state it leaves from ("stale": someone else acted first),
    or a required reason is missing ("reason_required").
    """
    try:
        return _perform(workflow, obj, action, actor, reason, seen)
    except DomainError as error:
        log.info(
            "refused",
            extra={
                "workflow": workflow.name,
                "action": action,
                "object_id": obj.pk,
                "actor_id": getattr(actor, "pk", None),
                "code": error.code,
            },
        )
        raise


def _perform(workflow, obj, action, actor, reason, seen=None):
    transition = workflow.get(action)
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise DomainError(_("请填写理由，写明需要修改或不通过的原因。"), code="reason_required", field="reason")
    model = type(obj)
    with transaction.atomic():
        locked = model._base_manager.select_for_update().get(pk=obj.pk)
        if not workflow.may_act(transition, locked, actor):
            raise DomainError(_("您无权执行此操作。"), code="forbidden")
        if locked.state not in transition.sources:
            raise DomainError(
                _("当前状态为“%(state)s”，不能执行“%(action)s”：可能已被他人处理，请刷新页面。")
                % {"state": locked.get_state_display(), "action": transition.label},
                code="stale",
            )
        if seen is not None and locked.review_version != seen:
            raise DomainError(
                _("页面显示后状态已有变化（现为“%(state)s”），未执行“%(action)s”：请刷新页面后再处理。")
                % {"state": locked.get_state_display(), "action": transition.label},
                code="stale",
            )
        from_state = locked.state
        locked.state = transition.target
        locked.state_changed_at = timezone.now()
        locked.save()
        event = ReviewEvent.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=locked.pk,
            action=transition.action,
            from_state=from_state,
            to_state=transition.target,
            actor=actor,
            actor_role="" if transition.actor == OWNER else transition.actor,
            reason=reason,
        )
        transition.run_effect(locked, event)
        # In the same transaction: the people it concerns get their inbox rows and outbox deliveries
        # (cme_portal/notifications), sent after commit; a rolled-back transition tells nobody.
        event_recorded.send(sender=model, event=event, obj=locked, workflow=workflow, transition=transition)
    log.info(
        "transition",
        extra={
            "workflow": workflow.name,
            "action": action,
            "object_id": locked.pk,
            "actor_id": actor.pk,
            "from_state": from_state,
            "to_state": transition.target,
        },
    )
    obj.state, obj.state_changed_at = locked.state, locked.state_changed_at
    return event


def events_for(obj):
    """The timeline of ``obj``: its events, oldest first, with their actors."""
    return (
        ReviewEvent.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def timeline(obj):
    """Events of ``obj`` with display labels, for the shared timeline template."""
    workflow = type(obj).workflow
    states = dict(type(obj)._meta.get_field("state").choices)
    rows = []
    for event in events_for(obj):
        event.label = workflow.get(event.action).label
        event.from_label = states.get(event.from_state, event.from_state)
        event.to_label = states.get(event.to_state, event.to_state)
        event.role_label = Role(event.actor_role).label if event.actor_role else ""
        rows.append(event)
    return rows
