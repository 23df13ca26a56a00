# A unique field with a callable default takes three steps, or every existing row would get
# the same value (docs.djangoproject.com, "Migrations that add unique fields").

import uuid

from django.db import migrations, models


def label_each_batch(apps, schema_editor):
    GenerationBatch = apps.get_model("catalog", "GenerationBatch")
    for batch in GenerationBatch.objects.filter(label__isnull=True).only("pk"):
        batch.label = uuid.uuid4()
        batch.save(update_fields=["label"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_batch_submitting"),
    ]

    operations = [
        migrations.AddField(
            model_name="generationbatch",
            name="label",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(label_each_batch, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="generationbatch",
            name="label",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Ours, sent with the batch: the provider lists its batch under it.",
                unique=True,
            ),
        ),
    ]
