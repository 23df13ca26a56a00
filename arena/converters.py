"""URL converters shared by the apps: an arena name, a battle side and a model id."""

from arena.catalog.models import MODEL_ID


class _Choice:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ArenaConverter(_Choice):
    regex = "t2i|edit"


class SideConverter(_Choice):
    regex = "left|right|source"


class ModelIdConverter(_Choice):
    regex = MODEL_ID
