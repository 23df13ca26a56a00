from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_outputs"),
    ]

    operations = [
        migrations.AddField(
            model_name="imagejob",
            name="partial_images",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Streamed: how many partial images the caller wants; empty: not streamed.",
                null=True,
            ),
        ),
    ]
