"""Roles: who may do what. Three Django groups, viewer < reviewer < manager; a user's role is the
highest they are in, a superuser is a manager, and a user in none is a reviewer.

Every "may this user do X" question is answered here (roles.py), so views, the API, templates and
later features (queues, rubrics, sign-on) ask the same functions:

    can_review(user)   vote, tags, notes, bulk actions, resolve conflicts, retry a write-back
    can_manage(user)   everything a reviewer can, and revoke anyone's public link
    can_share(user)    create public links: managers, and reviewers granted "Can add share link"

Page views use the decorators (decorators.py); the API uses steps.api.permissions; templates
get `access` from the context processor.
"""

from .roles import (
    MANAGER,
    MANAGER_REFUSED,
    REVIEWER,
    ROLES,
    VIEWER,
    VIEWER_REFUSED,
    RoleRequired,
    can_manage,
    can_review,
    can_revoke_link,
    can_share,
    role_of,
    set_role,
    with_role,
)

__all__ = [
    "MANAGER",
    "MANAGER_REFUSED",
    "REVIEWER",
    "ROLES",
    "VIEWER",
    "VIEWER_REFUSED",
    "RoleRequired",
    "can_manage",
    "can_review",
    "can_revoke_link",
    "can_share",
    "role_of",
    "set_role",
    "with_role",
]
