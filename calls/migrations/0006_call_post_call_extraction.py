from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0005_call_and_webhook_delivery_traceparent"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="extraction",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="call",
            name="extraction_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "None"),
                    ("pending", "Pending"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                    ("timed_out", "Timed out"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="call",
            index=models.Index(
                condition=models.Q(("extraction_status", "pending")),
                fields=["ended_at"],
                name="call_extraction_pending_idx",
            ),
        ),
    ]
