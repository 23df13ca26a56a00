"""URL converters shared by the apps: an arena name, a battle side and token, a model id."""

from arena.catalog.models import MODEL_ID, Arena


class _Choice:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ArenaConverter(_Choice):
    regex = "|".join(Arena.values)

    def to_python(self, value: str) -> Arena:
        return Arena(value)


class SideConverter(_Choice):
    regex = "left|right|source"


class ModelIdConverter(_Choice):
    regex = MODEL_ID


class BattleTokenConverter(_Choice):
    # What battles.models.new_token makes (URL-safe base64), at most the column's 64: anything
    # else (a NUL, say, which PostgreSQL refuses in a query) is no battle, a 404.
    regex = "[A-Za-z0-9_-]{1,64}"
