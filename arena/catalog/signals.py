"""What the catalog tells the layers above it, without importing them."""

from django.dispatch import Signal

# Models or prompts joined or left the competition (retired, brought back, deleted): whatever
# keeps a picture of what competes (the battle pool) should rebuild it.
curation_changed = Signal()
