"""What the certificates app tells others (connected in their AppConfig.ready()).

``certificates_drawn(sender=Certificate, certificates=[...])``: certificates were drawn in the current
transaction (a chunk's, written with one bulk update, so no ``post_save`` is sent for them). Each carries its
``learner`` and ``record``; receivers write in the same transaction.
"""

from django.dispatch import Signal

certificates_drawn = Signal()
