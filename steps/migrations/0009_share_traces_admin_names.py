from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("steps", "0008_feedbackpush_sent_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="include_traces",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterModelOptions(
            name="feedbackbatch",
            options={"verbose_name_plural": "feedback batches"},
        ),
        migrations.AlterModelOptions(
            name="feedbackpush",
            options={"verbose_name_plural": "feedback pushes"},
        ),
    ]
