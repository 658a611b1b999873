"""Notifications delivered through apprise: one library for Slack, Teams, Discord, email, ntfy, a
generic JSON webhook and a hundred more, each configured by a URL.

The outbox: a Notification is written in the transaction that decided it (an alert's change of
state, a rule acting on a batch); a Celery task delivers it after the commit, claiming the row with
a conditional UPDATE (a task run twice, or beside the sweep, sends it once); a failed delivery is
retried with backoff up to MAX_ATTEMPTS, then stays "failed" with its reason on the alert's or
rule's page, never dropped. A beat sweep sends whatever a lost message or a killed worker left.

Secrets: the URL is decrypted only here, handed to apprise, and never logged; apprise's own log
lines are captured (not propagated, see settings.LOGGING) and kept as the error with every piece
of the URL scrubbed out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import apprise
from django.db.models import Q
from django.utils import timezone

from .. import taskqueue
from . import secret_url
from .models import Destination, Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS, RETRY_CAP_SECONDS = 10.0, 3600.0
CLAIM_SECONDS = 120  # longer than apprise's timeouts for one destination
DELIVER_TASK = "steps.tasks.deliver_notification"


def enqueue(notification: Notification) -> Notification:
    """Save the notification (inside the caller's transaction) and send it after the commit."""
    notification.save()
    taskqueue.send_on_commit(DELIVER_TASK, notification.pk)
    return notification


def backoff(attempts: int) -> float:
    return min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class Sent:
    ok: bool
    error: str = ""


def _apprise_for(url: str) -> apprise.Apprise | None:
    """An Apprise object for the URL; a plain http(s) URL apprise has no service for is a JSON
    webhook (`json://` / `jsons://`), as a generic receiver expects."""
    sender = apprise.Apprise()
    if sender.add(url):
        return sender
    scheme = secret_url.scheme_of(url)
    if scheme in ("http", "https") and sender.add(
        ("jsons" if scheme == "https" else "json") + url[len(scheme) :]
    ):
        return sender
    return None


def is_valid_url(url: str) -> bool:
    return _apprise_for(url) is not None


def send(url: str, title: str, body: str) -> Sent:
    """One delivery attempt; never raises for a transport problem, says what went wrong."""
    sender = _apprise_for(url)
    if sender is None:
        return Sent(False, "Not a destination URL apprise understands.")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        try:
            ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        except Exception as exc:  # a plugin's own bug: a failure to show, not a crash of the worker
            ok, extra = False, f"{type(exc).__name__}: {exc}"
        else:
            extra = ""
        lines = captured.getvalue().strip()
    if ok:
        return Sent(True)
    error = secret_url.scrub(" ".join(part for part in (lines, extra) if part), url).strip()
    return Sent(False, (error or "The destination refused the notification.")[:2000])


def _claim(notification_id: int) -> Notification | None:
    now = timezone.now()
    claimable = Q(status=Notification.Status.PENDING, not_before__lte=now) | Q(
        status=Notification.Status.IN_FLIGHT, claimed_until__lt=now
    )
    taken = Notification.objects.filter(claimable, pk=notification_id).update(
        status=Notification.Status.IN_FLIGHT, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
    )
    if not taken:
        return None  # sent, failed, not due yet, or another worker is sending it
    return Notification.objects.select_related("destination").get(pk=notification_id)


def deliver(notification_id: int) -> float | None:
    """Send one notification if it is due and nobody else is; seconds until its retry, else None."""
    notification = _claim(notification_id)
    if notification is None:
        return None
    try:
        url = notification.destination.url
    except secret_url.UnreadableSecret as exc:
        result = Sent(False, str(exc))
        notification.attempts = MAX_ATTEMPTS - 1  # no retry can help: fail now, visibly
    else:
        result = send(url, notification.title, notification.body)
    now = timezone.now()
    notification.attempts += 1
    notification.claimed_until = None
    retry_in = None
    if result.ok:
        notification.status, notification.sent_at, notification.last_error = Notification.Status.SENT, now, ""
    elif notification.attempts >= MAX_ATTEMPTS:
        notification.status, notification.last_error = Notification.Status.FAILED, result.error
    else:
        retry_in = backoff(notification.attempts)
        notification.status, notification.last_error = Notification.Status.PENDING, result.error
        notification.not_before = now + timedelta(seconds=retry_in)
    if not result.ok:
        # the masked destination and the scrubbed error only: the URL is a secret
        log.warning(
            "Notification %s to %s failed (attempt %s): %s",
            notification.pk,
            notification.destination.display,
            notification.attempts,
            result.error,
        )
    notification.save(
        update_fields=["status", "attempts", "claimed_until", "sent_at", "last_error", "not_before"]
    )
    return retry_in


def due_ids(limit: int = 100) -> list[int]:
    """Notifications the sweep should send: due, or claimed by a worker that died."""
    now = timezone.now()
    due = Notification.objects.filter(
        Q(status=Notification.Status.PENDING, not_before__lte=now)
        | Q(status=Notification.Status.IN_FLIGHT, claimed_until__lt=now)
    )
    return list(due.order_by("not_before").values_list("pk", flat=True)[:limit])


def retry(notification: Notification) -> None:
    """A person asked to send a failed notification again: a fresh round of attempts."""
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING, attempts=0, not_before=timezone.now(), last_error=""
    )
    taskqueue.send_on_commit(DELIVER_TASK, notification.pk)


def send_test(destination: Destination, *, user) -> Sent:
    """The "Send a test" button: sent at once, in the request, and its outcome shown."""
    try:
        url = destination.url
    except secret_url.UnreadableSecret as exc:
        return Sent(False, str(exc))
    who = getattr(user, "get_username", lambda: "someone")()
    return send(url, "Test from the Letta review dashboard", f"{who} sent this test: the destination works.")
