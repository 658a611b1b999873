"""Every action the trail records, with the words the audit page shows. Other packages record
through steps.audit.record(actor, "<action>", target, before, after) inside the transaction of
the change, so an event commits (or rolls back) with it.

Queue reviews (steps.review) record "review.submit", "review.undo" and "review.adjudicate" against
the step, with the answers (or the verdict) before and after.
"""

ACTIONS: dict[str, str] = {
    "vote.cast": "voted",
    "vote.retry": "retried a write-back",
    "vote.resolve": "resolved a vote conflict",
    "tags.change": "changed tags",
    "note.change": "changed the note",
    "bulk.start": "started a bulk action",
    "review.submit": "submitted a queue review",
    "review.adjudicate": "adjudicated a review",
    "review.undo": "undid a queue review",
    "token.create": "created an API token",
    "token.revoke": "revoked an API token",
    "share.create": "created a public link",
    "share.revoke": "revoked a public link",
    "role.change": "changed a role",
    "role.pin": "pinned a role",
    "role.unpin": "unpinned a role",
    "user.sign_in": "signed in",
    "user.sign_out": "signed out",
    # Django's admin log (LogEntry), shown in the same trail
    "admin.add": "added in the admin",
    "admin.change": "changed in the admin",
    "admin.delete": "deleted in the admin",
}
ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}  # LogEntry.action_flag
