"""Ratings per board: a category of prompts or a quality question, beside the main vote ("", "")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_model_ids_with_dots"),
        ("ratings", "0004_pairing_plan_and_elo"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="rating",
            name="rating_unique",
        ),
        migrations.AddField(
            model_name="rating",
            name="category",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddField(
            model_name="rating",
            name="quality",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="ratingrun",
            name="category",
            field=models.CharField(
                blank=True, default="", help_text="A category's slug; empty: all.", max_length=32
            ),
        ),
        migrations.AddField(
            model_name="ratingrun",
            name="quality",
            field=models.CharField(
                blank=True,
                default="",
                help_text="A quality question; empty: the vote.",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="rating",
            constraint=models.UniqueConstraint(
                fields=("arena", "category", "quality", "model"), name="rating_unique"
            ),
        ),
    ]
