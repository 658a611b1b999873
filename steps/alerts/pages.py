"""Pages: saved views (save, open, default, delete), the rule and alert editors, an alert's history,
"Send a test". Thin: the forms validate, views_saved / rules / evaluation / notify do the work.

Roles: anyone saves and deletes their own views (a viewer too: a view changes only its owner's
sidebar); shared views, rules, alerts and destinations are a manager's (manager_required refuses
every other role's POST with a 403 that says why).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..access import MANAGER_REFUSED, can_manage
from ..access.decorators import manager_required
from . import evaluation, notify, views_saved
from .forms import WINDOW_LABELS, AlertForm, DestinationField, RuleForm, SavedViewForm
from .models import Alert, Destination, Notification, Rule, SavedView

# --- saved views --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def view_list(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        view = form.save()
        messages.success(request, f"Saved the view “{view.name}”.")
        return redirect(view.url)
    rows = views_saved.sidebar(request.user, limit=200)
    status = 400 if form.errors else 200
    return render(request, "alerts/view_list.html", {"rows": rows, "form": form}, status=status)


@require_GET
def view_counts(request: HttpRequest) -> HttpResponse:
    """The sidebar's views with their "N new" counts: fetched by the panel once a page is shown."""
    rows = views_saved.sidebar(request.user)
    return render(request, "alerts/_views_list.html", {"saved_views": rows, "counted": True})


def _visible_view(request: HttpRequest, view_id: int) -> SavedView:
    return get_object_or_404(SavedView.objects.filter(Q(owner=request.user) | Q(shared=True)), pk=view_id)


@require_GET
def view_open(request: HttpRequest, view_id: int) -> HttpResponse:
    """Open a view: its "new" count starts again from now."""
    view = _visible_view(request, view_id)
    views_saved.record_open(view, request.user)
    return redirect(view.url)


@require_GET
def view_default(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands (LOGIN_REDIRECT_URL): the user's default view, else the step list."""
    view = views_saved.default_view(request.user)
    if view is None:
        return redirect("step_list")
    views_saved.record_open(view, request.user)
    return redirect(view.url)


@require_POST
def view_make_default(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _visible_view(request, view_id)
    clear = request.POST.get("clear") == "1"
    views_saved.set_default(request.user, None if clear else view)
    messages.success(request, "No default view now." if clear else f"“{view.name}” opens when you sign in.")
    return redirect("view_list")


@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _visible_view(request, view_id)
    if view.owner_id != request.user.pk and not can_manage(request.user):
        raise PermissionDenied(MANAGER_REFUSED)
    if view.rules.exists():
        messages.error(request, f"“{view.name}” is used by a rule: delete the rule first.")
        return redirect("view_list")
    view.delete()
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("view_list")


# --- rules ---------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def rule_list(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, user=request.user, initial={"view": request.GET.get("view")})
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        messages.success(request, f"Rule “{rule.name}” acts on newly synced steps from now on.")
        return redirect("rule_list")
    rules = Rule.objects.select_related("view", "destination", "queue").order_by("name", "id")
    context = {"rules": rules, "form": form, "can_manage": can_manage(request.user)}
    return render(request, "alerts/rule_list.html", context, status=400 if form.errors else 200)


@manager_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    rule.delete()
    messages.success(request, f"Deleted the rule “{rule.name}”.")
    return redirect("rule_list")


@manager_required
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    rule.enabled = not rule.enabled
    rule.save(update_fields=["enabled"])
    return redirect("rule_list")


# --- alerts --------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def alert_list(request: HttpRequest) -> HttpResponse:
    initial = {"query": request.GET.get("query", ""), "window_minutes": 60, "min_steps": 1}
    form = AlertForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        alert = form.save()
        messages.success(request, f"Alert “{alert.name}” is evaluated every {_interval()}.")
        return redirect("alert_detail", alert_id=alert.pk)
    alerts = list(Alert.objects.select_related("destination").order_by("name", "id"))
    for alert in alerts:
        alert.threshold_text = evaluation.show_threshold(alert)
        alert.value_text = evaluation.show(alert.series, alert.last_value)
    context = {
        "alerts": alerts,
        "form": form,
        "can_manage": can_manage(request.user),
        "interval": _interval(),
    }
    return render(request, "alerts/alert_list.html", context, status=400 if form.errors else 200)


def _window_choices(form, current: int | None = None) -> list[tuple[int, str]]:
    """The usual windows, plus the alert's own when the API set another (kept on save)."""
    choices = list(WINDOW_LABELS)
    if current and current not in dict(choices):
        choices = sorted([*choices, (current, f"{current} min")])
    return choices


def _interval() -> str:
    from django.conf import settings

    seconds = int(settings.ALERT_EVALUATE_SECONDS)
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


@manager_required
@require_http_methods(["GET", "POST"])
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("destination"), pk=alert_id)
    form = AlertForm(
        request.POST or None, user=request.user, instance=alert, initial=AlertForm.values_of(alert)
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved.")
        return redirect("alert_detail", alert_id=alert.pk)
    context = {
        "alert": alert,
        "form": form,
        "events": _with_figures(alert, alert.events.order_by("-at", "-id")[:50]),
        "notifications": alert.notifications.order_by("-id")[:20],
        "threshold_text": evaluation.show_threshold(alert),
        "value_text": evaluation.show(alert.series, alert.last_value),
        "can_manage": can_manage(request.user),
        "interval": _interval(),
        "window_choices": _window_choices(form, alert.window_minutes),
    }
    return render(request, "alerts/alert_detail.html", context, status=400 if form.errors else 200)


def _with_figures(alert: Alert, events) -> list:
    events = list(events)
    for event in events:
        event.value_text = evaluation.show(alert.series, event.value)
    return events


@manager_required
@require_POST
def alert_evaluate(request: HttpRequest, alert_id: int) -> HttpResponse:
    get_object_or_404(Alert.objects.only("id"), pk=alert_id)
    outcome = evaluation.evaluate_now(alert_id)
    figure = evaluation.show(outcome.alert.series, outcome.figure.value)
    change = f" It {outcome.event.get_kind_display()}." if outcome.event else ""
    messages.success(request, f"Evaluated now: {figure} over {outcome.figure.steps:,} steps.{change}")
    return redirect("alert_detail", alert_id=alert_id)


@manager_required
@require_POST
def alert_delete(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=alert_id)
    alert.delete()
    messages.success(request, f"Deleted the alert “{alert.name}”.")
    return redirect("alert_list")


@manager_required
@require_POST
def notification_retry(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=notification_id)
    notify.retry(notification)
    messages.success(request, "Sending it again.")
    if notification.alert_id:
        return redirect("alert_detail", alert_id=notification.alert_id)
    return redirect("rule_list")


@manager_required
@require_POST
def destination_test(request: HttpRequest) -> HttpResponse:
    """ "Send a test": to a URL typed in an editor, or to a saved destination by id."""
    if destination_id := request.POST.get("destination_id", "").strip():
        if not destination_id.isdigit() or len(destination_id) > 18:
            return _test_answer(request, False, "No such destination.", 400)
        destination = get_object_or_404(Destination, pk=int(destination_id))
    else:
        field = DestinationField(required=True)
        try:
            url = field.clean(request.POST.get("destination", ""))
        except Exception as exc:  # a ValidationError: said back, nothing saved
            message = "; ".join(getattr(exc, "messages", [str(exc)]))
            return _test_answer(request, False, message, 400)
        result = notify.send(url, "Test from the Letta review dashboard", f"{request.user} sent this test.")
        return _test_answer(request, result.ok, result.error)
    result = notify.send_test(destination, user=request.user)
    return _test_answer(request, result.ok, result.error)


def _test_answer(request: HttpRequest, ok: bool, error: str, status: int = 200) -> HttpResponse:
    text = "Test sent: check the destination." if ok else f"The test failed: {error}"
    if request.htmx:
        # the outcome is the answer (the slot beside the button shows it), whatever it is
        return render(request, "alerts/_test_result.html", {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    back = request.POST.get("back", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) and back.startswith("/")
    return redirect(back if safe else "alert_list")
