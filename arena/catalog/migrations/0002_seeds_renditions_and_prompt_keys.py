"""Secret seeds and renditions for generations; prompt keys and perceptual hashes for prompts.

Every existing generation gets a seed of its own (a field default would give them all one),
every prompt its text key, its source's perceptual hash, and a fingerprint computed the new
way, unless that would collide with another prompt's (it then keeps the old one).
"""

import secrets

from django.db import migrations, models

import arena.catalog.models


def fill(apps, schema_editor):
    from arena.catalog.guard import image_phash, text_digest

    Generation = apps.get_model("catalog", "Generation")
    Prompt = apps.get_model("catalog", "Prompt")
    for generation in Generation.objects.only("pk").iterator():
        Generation.objects.filter(pk=generation.pk).update(seed=secrets.randbits(63))
    taken: set[str] = set()
    for prompt in Prompt.objects.order_by("pk").iterator():
        prompt.text_key = text_digest(prompt.text)
        fingerprint = arena.catalog.models.Prompt.fingerprint_for(
            prompt.arena, prompt.text, prompt.source_sha256
        )
        if fingerprint not in taken:
            prompt.fingerprint = fingerprint
        taken.add(prompt.fingerprint)
        if prompt.source_image:
            try:
                with prompt.source_image.open("rb") as source:
                    prompt.source_phash = image_phash(source.read())
            except (OSError, ValueError):
                prompt.source_phash = ""
        prompt.save(update_fields=["text_key", "fingerprint", "source_phash"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="generation", name="generation_unique"),
        migrations.AddField(
            model_name="generation",
            name="rendition",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="generation",
            name="seed",
            field=models.BigIntegerField(default=arena.catalog.models.new_seed, editable=False),
        ),
        migrations.AddConstraint(
            model_name="generation",
            constraint=models.UniqueConstraint(
                fields=("prompt", "model", "rendition"), name="generation_unique"
            ),
        ),
        migrations.AddField(
            model_name="prompt",
            name="source_phash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="Perceptual hash of the source.",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="prompt",
            name="text_key",
            field=models.CharField(
                db_index=True,
                default="",
                editable=False,
                help_text="Digest of the text as guard.prompt_key reads it.",
                max_length=32,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
