"""Online Elo moved to battles (battles/0002 took the table and its rows): ratings forgets it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("battles", "0002_pairing_plan_and_elo"),
        ("ratings", "0003_flag_pass"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="EloRating")],
        ),
    ]
