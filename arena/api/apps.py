from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "arena.api"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from arena.api.lookups import lookups_changed
        from arena.api.models import ApiKey
        from arena.catalog.models import AIModel, Prompt
        from arena.catalog.signals import curation_changed

        # Every write to a key, a model or a prompt: saved, deleted, or written in bulk by a
        # service that says so.
        for sender in (ApiKey, AIModel, Prompt):
            for signal in (post_save, post_delete):
                signal.connect(lookups_changed, sender=sender, dispatch_uid="api.lookups")
        curation_changed.connect(lookups_changed, dispatch_uid="api.lookups")
