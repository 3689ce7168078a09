"""What the credits app announces to the apps above it (certificates listen in their AppConfig.ready)."""

from django.dispatch import Signal

# Sent inside the award's transaction with record_ids=[…]: the new effective ledger rows.
credits_awarded = Signal()

# Sent inside a correction's transaction with record_ids=[…] (ledger rows now reversed), reason and actor_id.
credits_reversed = Signal()
