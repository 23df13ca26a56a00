"""Shared copies of a visitor's own leaderboard, frozen when shared."""

from django.db import migrations, models

import arena.ratings.models


class Migration(migrations.Migration):
    dependencies = [
        ("ratings", "0005_boards"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonalBoard",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "token",
                    models.CharField(
                        default=arena.ratings.models.new_share_token,
                        editable=False,
                        max_length=32,
                        unique=True,
                    ),
                ),
                (
                    "arena",
                    models.CharField(
                        choices=[("t2i", "Text-to-Image"), ("edit", "Image Editing")], max_length=8
                    ),
                ),
                (
                    "rows",
                    models.JSONField(
                        help_text="The visitor's ranking, each row beside the main board's."
                    ),
                ),
                (
                    "votes",
                    models.PositiveIntegerField(
                        help_text="How many votes the visitor's ranking is from."
                    ),
                ),
                (
                    "tau",
                    models.FloatField(
                        blank=True,
                        help_text="Kendall tau with the main board; empty: undefined.",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
