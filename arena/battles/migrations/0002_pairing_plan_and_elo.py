"""Online Elo moves from ratings to battles (it is written in the vote's transaction), keeping
every row: the table is renamed, not copied. Battles also gain the pairing plan each ratings
refit writes for matchmaking."""

import django.db.models.deletion
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    """Admin permissions and log entries follow the model to its new app."""
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="battles", model="elorating").exists():
        content_types.objects.filter(app_label="ratings", model="elorating").update(
            app_label="battles"
        )


def content_type_return(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    content_types.objects.filter(app_label="battles", model="elorating").update(
        app_label="ratings"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("battles", "0001_initial"),
        ("catalog", "0003_model_ids_with_dots"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ratings", "0003_flag_pass"),
    ]

    operations = [
        migrations.CreateModel(
            name="PairingPlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "arena",
                    models.CharField(
                        choices=[("t2i", "Text-to-Image"), ("edit", "Image Editing")],
                        max_length=8,
                        unique=True,
                    ),
                ),
                (
                    "model_ids",
                    models.JSONField(help_text="The models the weights are about, in order."),
                ),
                ("weights", models.JSONField(help_text="Pair weights, one row per model.")),
                (
                    "newcomer",
                    models.JSONField(
                        help_text="Each model's weight against a model joined since."
                    ),
                ),
                (
                    "newcomers",
                    models.FloatField(
                        help_text="The weight of a pair of two models joined since."
                    ),
                ),
                ("computed_at", models.DateTimeField()),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EloRating",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "arena",
                            models.CharField(
                                choices=[("t2i", "Text-to-Image"), ("edit", "Image Editing")],
                                max_length=8,
                            ),
                        ),
                        ("rating", models.FloatField(default=1000.0)),
                        ("votes", models.PositiveIntegerField(default=0)),
                        ("wins", models.PositiveIntegerField(default=0)),
                        ("losses", models.PositiveIntegerField(default=0)),
                        ("ties", models.PositiveIntegerField(default=0)),
                        (
                            "model",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="elo_ratings",
                                to="catalog.aimodel",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ratings_elorating",
                        "ordering": [models.OrderBy(models.F("rating"), descending=True)],
                        "constraints": [
                            models.UniqueConstraint(fields=("arena", "model"), name="elo_unique")
                        ],
                    },
                ),
            ],
        ),
        # Now the table takes the app's name.
        migrations.AlterModelTable(name="elorating", table=None),
        migrations.RunPython(content_type_move, content_type_return),
    ]
