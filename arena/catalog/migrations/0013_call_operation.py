from django.db import migrations, models
from django.db.models import Q


def operations_known(apps, schema_editor):
    """Label as edits the calls known to be edits; every other call stays a generation.

    Known: the calls of a generation whose prompt is in the Image Editing arena (its image is
    an edit of the prompt's source image), and the calls of a model that can only edit (the
    gateway refuses it anything else before any call). Assumed: the other API and playground
    calls made images from text. Nothing links a call to its ImageJob (the job keeps its
    provider job only until it is done), so an edit made through the API or the playground
    with a model that also generates cannot be told apart and is counted as a generation.
    """
    ProviderCall = apps.get_model("catalog", "ProviderCall")
    ProviderCall.objects.filter(
        Q(generation__prompt__arena="edit") | Q(model__can_edit=True, model__can_generate=False)
    ).update(operation="edit")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_batch_label"),
    ]

    operations = [
        migrations.AddField(
            model_name="providercall",
            name="operation",
            field=models.CharField(
                choices=[("generate", "Generate"), ("edit", "Edit")],
                default="generate",
                max_length=8,
            ),
        ),
        migrations.RunPython(operations_known, migrations.RunPython.noop),
    ]
