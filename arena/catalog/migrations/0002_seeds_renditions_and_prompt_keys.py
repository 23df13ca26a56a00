"""Secret seeds and renditions for generations; perceptual hashes of edit sources.

Every existing generation gets a seed of its own (a field default would give them all one),
every prompt its source's perceptual hash and a fingerprint computed the new way
(guard.prompt_key), unless that would collide with another prompt's (it keeps the old one).
"""

import secrets

from django.db import migrations, models

import arena.catalog.models


def fill(apps, schema_editor):
    from arena.catalog.guard import image_phash

    Generation = apps.get_model("catalog", "Generation")
    Prompt = apps.get_model("catalog", "Prompt")
    for generation in Generation.objects.only("pk").iterator():
        Generation.objects.filter(pk=generation.pk).update(seed=secrets.randbits(63))
    taken: set[str] = set()
    for prompt in Prompt.objects.order_by("pk").iterator():
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
        prompt.save(update_fields=["fingerprint", "source_phash"])


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
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
