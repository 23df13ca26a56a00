"""What battles tell the layers above them, without importing them."""

from django.dispatch import Signal

# A vote was stored and its transaction committed; sent with `arena` (the Arena voted in) and
# `vote_id`. Whatever follows the votes (a ratings refit where no beat runs one) may listen.
vote_recorded = Signal()
