from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0004_index_recent_calls_by_number"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="traceparent",
            field=models.CharField(blank=True, editable=False, max_length=55),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="traceparent",
            field=models.CharField(blank=True, editable=False, max_length=55),
        ),
    ]
