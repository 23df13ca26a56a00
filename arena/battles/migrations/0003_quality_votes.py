"""Answers to the quality questions asked after the main vote, one per battle and question."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("battles", "0002_pairing_plan_and_elo"),
    ]

    operations = [
        migrations.CreateModel(
            name="QualityVote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "quality",
                    models.CharField(
                        choices=[
                            ("adherence", "Follows the prompt"),
                            ("aesthetics", "Looks better"),
                            ("preservation", "Keeps the rest"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "choice",
                    models.CharField(
                        choices=[
                            ("left", "A (left) is better"),
                            ("right", "B (right) is better"),
                            ("tie", "It's a tie"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "voter",
                    models.CharField(
                        help_text="Anonymised voter id (keyed hash of the session), as on the vote.",
                        max_length=32,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "battle",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quality_votes",
                        to="battles.battle",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("battle", "quality"), name="quality_vote_unique"
                    )
                ],
            },
        ),
    ]
