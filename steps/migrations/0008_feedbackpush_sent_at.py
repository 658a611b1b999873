"""FeedbackPush.sent_at: a PATCH whose answer was lost is still known as ours (issue 8, item 3)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("steps", "0007_sync_heartbeat_agents")]

    operations = [
        migrations.AddField(
            model_name="feedbackpush",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
