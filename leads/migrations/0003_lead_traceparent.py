from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_do_not_call_lists"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="traceparent",
            field=models.CharField(blank=True, editable=False, max_length=55),
        ),
    ]
