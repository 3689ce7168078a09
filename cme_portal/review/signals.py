from django.dispatch import Signal

# Sent by perform() inside the transition's transaction, after its effect: event, obj, workflow, transition.
# cme_portal.notifications connects to it (AppConfig.ready) to tell the people the event concerns.
event_recorded = Signal()
