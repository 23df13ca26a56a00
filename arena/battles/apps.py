from typing import Any

from django.apps import AppConfig


class BattlesConfig(AppConfig):
    name = "arena.battles"

    def ready(self) -> None:
        from arena.catalog.signals import curation_changed

        curation_changed.connect(_curation_changed, dispatch_uid="battles.matchmaking")


def _curation_changed(**kwargs: Any) -> None:
    from arena.battles.matchmaking import matchmaking_changed

    matchmaking_changed()
