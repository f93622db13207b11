# (simplejwt's history has no 0009 here; some sites once applied one, which stays harmless.)
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("token_blacklist", "0008_migrate_to_bigautofield")]

    operations = [
        migrations.AlterField(
            model_name=name,
            name="id",
            field=models.BigAutoField(primary_key=True, serialize=False),
        )
        for name in ("blacklistedtoken", "outstandingtoken")
    ]
