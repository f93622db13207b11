# jti moves from a UUID column to text: copy each UUID's hex form.
from uuid import UUID

from django.db import migrations


def copy_jti_to_hex(apps, schema_editor):
    model = apps.get_model("token_blacklist", "OutstandingToken")
    for row in model.objects.using(schema_editor.connection.alias).all():
        row.jti_hex = row.jti.hex
        row.save()


def copy_hex_to_jti(apps, schema_editor):
    model = apps.get_model("token_blacklist", "OutstandingToken")
    for row in model.objects.using(schema_editor.connection.alias).all():
        row.jti = UUID(hex=row.jti_hex)
        row.save()


class Migration(migrations.Migration):
    dependencies = [("token_blacklist", "0002_outstandingtoken_jti_hex")]

    operations = [migrations.RunPython(copy_jti_to_hex, copy_hex_to_jti)]
