"""The three role groups. Users who exist when roles arrive keep doing what they did: each active
user in no role group becomes a reviewer (a superuser, a manager). A user in no role group is a
reviewer anyway; this makes it visible in the admin. Safe to run again."""

from django.conf import settings
from django.db import migrations

ROLES = ("viewer", "reviewer", "manager")  # as in steps.access.roles, frozen here


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    existing = User.objects.filter(is_active=True).exclude(groups__name__in=ROLES)
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=user.pk, group_id=groups["manager" if user.is_superuser else "reviewer"].pk)
            for user in existing.only("pk", "is_superuser")
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Reversing keeps the groups: deleting them would drop every assignment made since.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
