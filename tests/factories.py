"""Test data: models, prompts and ready generations with real (tiny) PNG files."""

from __future__ import annotations

import io
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from arena.battles.models import Battle
from arena.catalog.models import AIModel, Arena, Generation, Prompt


def png_bytes(
    color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 64)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    organization = "Test Org"
    can_generate = True
    can_edit = False


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    arena = Arena.T2I
    text = factory.Sequence(lambda n: f"A red ball number {n} on a table")
    fingerprint = factory.LazyAttribute(lambda o: Prompt.fingerprint_for(o.arena, o.text))


class GenerationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Generation

    prompt = factory.SubFactory(PromptFactory)
    model = factory.SubFactory(AIModelFactory)
    status = Generation.Status.READY
    image = factory.LazyFunction(lambda: ContentFile(png_bytes(), name="x.png"))
    thumbnail = factory.LazyFunction(lambda: ContentFile(png_bytes(), name="x.webp"))


class BattleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Battle

    arena = Arena.T2I
    prompt = factory.SubFactory(PromptFactory)
    left = factory.SubFactory(GenerationFactory, prompt=factory.SelfAttribute("..prompt"))
    right = factory.SubFactory(GenerationFactory, prompt=factory.SelfAttribute("..prompt"))
    session_key = "session-a"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
