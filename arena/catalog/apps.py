from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "arena.catalog"

    def ready(self) -> None:
        from arena.cache import cache_tables_create

        # Once per `migrate` (this app is the bottom layer every deployment has).
        post_migrate.connect(cache_tables_create, sender=self)
