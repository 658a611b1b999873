"""Django's user admin with a role select on the add and change forms and a role column. The
Groups field lists the other groups only: the role select owns the role groups."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction

from .. import audit
from .models import RolePin, SignOnIdentity
from .roles import REVIEWER, ROLES, highest, set_role, with_role

PIN_HELP = (
    "With single sign-on, a user's role follows the identity provider's claim at each sign-in. "
    "Ticked: the role stays as set here."
)
ROLE_HELP = (
    "Viewer: reads everything, changes nothing. Reviewer: votes, tags, notes, bulk actions. "
    "Manager: also revokes anyone's public links (and manages queues and rubrics as they arrive). "
    "A superuser is a manager whatever this says."
)


def _role_field(initial: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[(role, role.capitalize()) for role in ROLES], initial=initial, help_text=ROLE_HELP
    )


class RoleCreationForm(AdminUserCreationForm):
    role = _role_field(REVIEWER)  # what a user in no role group is; pick viewer for read-only


class RoleChangeForm(UserChangeForm):
    role = _role_field(REVIEWER)
    pin_role = forms.BooleanField(required=False, label="Pin this role", help_text=PIN_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].queryset = Group.objects.exclude(name__in=ROLES)
        if self.instance.pk:
            held = self.instance.groups.filter(name__in=ROLES).values_list("name", flat=True)
            self.fields["role"].initial = highest(held, superuser=self.instance.is_superuser)
            self.fields["pin_role"].initial = RolePin.objects.filter(user=self.instance).exists()


class RoleUserAdmin(UserAdmin):
    form = RoleChangeForm
    add_form = RoleCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("Role", {"classes": ("wide",), "fields": ("role",)}),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "is_staff")
    readonly_fields = ("sign_on",)

    @admin.display(description="Single sign-on")
    def sign_on(self, user) -> str:
        # read-only: made by sign-ins (the provider's issuer and subject), never typed in
        identities = SignOnIdentity.objects.filter(user=user).order_by("issuer")
        return ", ".join(f"{i.subject} at {i.issuer}" for i in identities) or "none (a local account)"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return [
            (name, {**options, "fields": _with_role(options["fields"])})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_queryset(self, request):
        return with_role(super().get_queryset(request))

    @admin.display(description="role")
    def role(self, user) -> str:
        return highest([user.role_group] if user.role_group else [], superuser=user.is_superuser)

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        held = form.instance.groups.filter(name__in=ROLES).values_list("name", flat=True) if change else []
        previous = highest(held) if held else None  # before the form's groups replace the role's
        super().save_related(request, form, formsets, change)  # sets the other groups
        set_role(form.instance, form.cleaned_data["role"], by=request.user, previous=previous)
        if "pin_role" in form.cleaned_data:
            _pin(form.instance, form.cleaned_data["pin_role"], by=request.user)


def _pin(user, pinned: bool, *, by) -> None:
    if pinned:
        _, created = RolePin.objects.get_or_create(user=user, defaults={"pinned_by": by.get_username()})
        if created:
            audit.record(by, "role.pin", user, {"pinned": False}, {"pinned": True})
    elif RolePin.objects.filter(user=user).delete()[0]:
        audit.record(by, "role.unpin", user, {"pinned": True}, {"pinned": False})


def _with_role(fields) -> tuple:
    """The Permissions section's fields with the role select just before the groups."""
    if "groups" not in fields:
        return tuple(fields)
    at = list(fields).index("groups")
    return (*fields[:at], "role", "pin_role", "sign_on", *fields[at:])


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, RoleUserAdmin)
