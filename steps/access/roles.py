"""The role of a user and what it allows. Role names are Django group names."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When

VIEWER, REVIEWER, MANAGER = "viewer", "reviewer", "manager"
ROLES = (VIEWER, REVIEWER, MANAGER)  # lowest first: the highest group a user is in wins
VIEWER_REFUSED = "Viewers can read; ask a manager for the reviewer role."
MANAGER_REFUSED = "Only managers can do that."

_UNSET = object()


class RoleRequired(PermissionDenied):
    """A refusal whose message is written for the user (the 403 page and toast show it)."""


def highest(group_names: Iterable[str], *, superuser: bool = False) -> str:
    """The role among `group_names` that ranks highest; reviewer when there is none (issue 17: a
    user in no group keeps writing, so an install from before roles works as it did)."""
    if superuser:
        return MANAGER
    held = [ROLES.index(name) for name in group_names if name in ROLES]
    return ROLES[max(held)] if held else REVIEWER


def with_role(users: QuerySet) -> QuerySet:
    """Users annotated with `role_group`, their highest role group (None: in none), so the user a
    request loads carries its role without a query of its own (backends.RoleBackend)."""
    rank = Case(
        *(When(group__name=name, then=Value(i)) for i, name in enumerate(ROLES)),
        output_field=IntegerField(),
    )
    memberships = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=ROLES
    )
    return users.annotate(role_group=Subquery(memberships.order_by(rank.desc()).values("group__name")[:1]))


@cache
def _user_with_role_sql() -> str:
    """with_role for one user as SQL text, built once: every request loads its user, and the
    ORM building that query (a CASE, a subquery) cost 4 ms, four times the query itself."""
    users, memberships = get_user_model()._meta, get_user_model().groups.through._meta
    groups = memberships.get_field("group").related_model._meta
    quote = connection.ops.quote_name
    roles = ", ".join(["%s"] * len(ROLES))
    rank = " ".join(f"WHEN %s THEN {i}" for i in range(len(ROLES)))
    return (
        f"SELECT u.*, (SELECT g.{quote('name')} FROM {quote(memberships.db_table)} m "
        f"JOIN {quote(groups.db_table)} g ON g.{quote('id')} = m.{quote('group_id')} "
        f"WHERE m.{quote('user_id')} = u.{quote(users.pk.column)} AND g.{quote('name')} IN ({roles}) "
        f"ORDER BY CASE g.{quote('name')} {rank} END DESC LIMIT 1) AS role_group "
        f"FROM {quote(users.db_table)} u WHERE u.{quote(users.pk.column)} = %s"
    )


def user_with_role(user_id):
    """The user with this primary key, carrying `role_group` as with_role gives it; None if none."""
    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    found = list(model._default_manager.raw(_user_with_role_sql(), [*ROLES, *ROLES, pk]))
    return found[0] if found else None


def role_of(user) -> str | None:
    """The user's role, or None for an anonymous visitor. Read once per user object: a request
    loads its user afresh, so a changed role applies from the next request on."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not user.is_active:
        return VIEWER  # a deactivated account's token or session writes nothing
    group = getattr(user, "role_group", _UNSET)
    if group is _UNSET:
        group = highest(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user.role_group = group
    return highest([group] if group else [], superuser=user.is_superuser)


def can_review(user) -> bool:
    return role_of(user) in (REVIEWER, MANAGER)


def can_manage(user) -> bool:
    return role_of(user) == MANAGER


def can_share(user) -> bool:
    """Public links expose a step outside the login: managers, and reviewers an admin granted
    the "Can add share link" permission (to them or to the reviewer group)."""
    return can_manage(user) or (can_review(user) and user.has_perm("steps.add_sharelink"))


def can_revoke_link(user, link) -> bool:
    """Your own link, or anyone's as a manager (or with the "Can change share link" permission)."""
    if not can_review(user):
        return False
    return link.created_by_id == user.pk or can_manage(user) or user.has_perm("steps.change_sharelink")


@transaction.atomic
def set_role(user, role: str, *, by=None, by_name: str = "", previous=_UNSET) -> None:
    """Put the user in exactly one role group (created if missing); other groups are kept. A
    change is audited as done by `by` (a user), or by `by_name` (e.g. the identity provider);
    `previous` is the role group before, when the caller already changed the groups (the admin)."""
    from django.contrib.auth.models import Group  # not at import: this package is an app

    from .. import audit

    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: one of {', '.join(ROLES)}.")
    if previous is _UNSET:
        held = user.groups.filter(name__in=ROLES).values_list("name", flat=True) if user.pk else []
        previous = highest(held) if held else None
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.role_group = role
    if previous != role:
        audit.record(by, "role.change", user, {"role": previous}, {"role": role}, actor_name=by_name)
