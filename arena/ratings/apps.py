from typing import Any

from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "arena.ratings"

    def ready(self) -> None:
        from arena.battles.signals import vote_recorded

        vote_recorded.connect(_vote_recorded, dispatch_uid="ratings.refit_after_vote")


def _vote_recorded(*, arena: str, **kwargs: Any) -> None:
    from arena.ratings.services import ratings_refresh_when_stale

    ratings_refresh_when_stale(arena=arena)
