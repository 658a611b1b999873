"""The list's rows as HTML, written in Python: a step row and its vote widget.

Why here and not in the template: a 50-row list page spent about half of its CPU rendering these
two partials, some forty template lookups, filters and `{% if %}` per row (docs/benchmarks.md,
"Capacity"). Built with `markup` (below: Django's `format_html`, faster), whose arguments are
escaped unless they are already safe markup, so escaping is the default here as in a template. The overview's charts are drawn
the same way (steps/overview/svg.py).

The project's one rule: pages are Django templates; what repeats per row of a long list is
written here, in Python, and the template prints it (`{% step_rows %}`, `{% vote_widget %}` in
steps/templatetags/rows_ui.py). A new column: a field of `StepRow` (rows.py), printed below.
"""

from __future__ import annotations

import html

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from ..templatetags.steps_ui import ago


def markup(template: str, *args) -> SafeString:
    """Django's `format_html`, every argument escaped unless it is markup already (`__html__`),
    without the lazy-string check Django wraps around each escape: that check was a third of
    the rows' time. The same characters are escaped (Django's `escape` is `html.escape` too)."""
    return SafeString(
        template.format(*(a.__html__() if hasattr(a, "__html__") else html.escape(str(a)) for a in args))
    )


GONE_TITLE = "Deleted in Letta — your vote is kept here but cannot be sent"
_THUMB = (
    '<svg class="thumb" aria-hidden="true"><use href="#i-thumb-{}"></use></svg><span class="sr">{}</span>'
)


def csrf_input(token) -> SafeString:
    """What `{% csrf_token %}` prints, for a token read once per page."""
    if not token or token == "NOTPROVIDED":
        return mark_safe("")
    return markup('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def step_row(row, *, fresh: bool, can_review: bool, refused: str, csrf: SafeString) -> SafeString:
    """One <tr> of the step list (and of its live and bulk updates)."""
    step = row.step
    status = markup('<span class="badge badge-{}">{}</span>', row.status, row.status)
    if step.gone_upstream_at:
        status += markup('<span class="badge badge-gone" title="{}">deleted in Letta</span>', GONE_TITLE)
    if step.stop_reason:
        status += markup(
            '<div class="stop-reason" title="Stop reason: {}">{}</div>', step.stop_reason, step.stop_reason
        )
    agent_class = "agent-name" if row.agent_name else "mono"
    return markup(
        '<tr class="step-row{}" data-step="{}">\n'
        '<td class="col-sel no-nav"><input type="checkbox" class="row-check" name="step_ids" value="{}" '
        'form="bulk-form" aria-label="Select step {}"></td>\n'
        '<td class="col-status">{}</td>\n'
        '<td class="col-time"><a class="row-link" href="{}"><time datetime="{}" title="{}">{}</time></a>'
        '<div class="sub" title="Duration">{}</div></td>\n'
        '<td class="col-agent"><span class="{}" title="{}">{}</span><div class="sub">{}</div></td>\n'
        '<td class="col-convo">{}</td>\n'
        '<td class="num" title="{}">{}<div class="sub row-cost">{}</div></td>\n'
        '<td class="col-vote no-nav">{}</td>\n'
        "</tr>\n",
        " fresh" if fresh else "",
        step.pk,
        step.pk,
        row.short_id,
        status,
        row.url,
        row.time_iso,
        row.time_title,
        row.time_text,
        row.duration,
        agent_class,
        row.agent_title,
        row.agent_name or row.agent_label,
        row.model,
        _conversation(row),
        row.tokens_title,
        row.tokens,
        row.cost,
        vote_compact(row.vote, row.vote_url, can_review=can_review, refused=refused, csrf=csrf),
    )


def _conversation(row) -> SafeString:
    p, step = row.preview, row.step
    parts = []
    if p.user:
        parts.append(
            markup('<div class="convo-user" title="{}"><span class="who">U</span>{}</div>', p.user, row.user)
        )
    if p.assistant:
        parts.append(
            markup(
                '<div class="convo-asst" title="{}"><span class="who">A</span>{}</div>',
                p.assistant,
                row.assistant,
            )
        )
    elif p.reasoning:
        parts.append(
            markup(
                '<div class="convo-reasoning" title="Reasoning (no reply in this step): {}">'
                '<span class="who">R</span>{}</div>',
                p.reasoning,
                row.reasoning,
            )
        )
    if row.match:
        parts.append(
            markup(
                '<div class="convo-match" title="Where the search matched"><span class="match-where">{}</span>'
                "{}</div>",
                row.match.where,
                row.match.html,
            )
        )
    if p.tools:
        chips = mark_safe("".join(markup('<span class="chip chip-tool">{}</span>', t) for t in p.tools))
        parts.append(markup('<div class="tools">{}</div>', chips))
    if step.error_type:
        parts.append(markup('<div class="convo-err">{}</div>', step.error_type))
    elif not (p.user or p.assistant or p.reasoning or p.tools):
        parts.append(mark_safe('<span class="muted">no messages</span>'))
    return mark_safe("\n".join(parts))


def vote_compact(
    vs,
    vote_url: str,
    *,
    can_review: bool,
    refused: str,
    csrf: SafeString,
    oob: bool = False,
    polls: bool | None = None,
) -> SafeString:
    """A row's vote and its write-back to Letta (`vs` a VoteState); the vote POST answers with it.
    `polls=False`: it does not ask again by itself (a running bulk action's bar redraws it)."""
    if vs is None:
        return mark_safe("")
    pk, state, feedback, push = vs.step.pk, vs.state, vs.feedback, vs.push
    attrs = mark_safe(' hx-swap-oob="true"' if oob else "")
    if state in ("saving", "retrying") and polls is not False:
        attrs += markup(
            ' hx-get="{}?compact=1" hx-trigger="load delay:{}ms" hx-target="this" hx-swap="outerHTML"',
            vote_url,
            vs.poll_ms,
        )
    if vs.vote and vs.vote.voted_by:
        attrs += markup(' title="voted by {} {}"', vs.vote.voted_by.get_username(), ago(vs.vote.voted_at))
    if can_review:
        opening = markup(
            '<form class="vote-form" method="post" action="{}" hx-post="{}" hx-target="closest .vote" '
            'hx-swap="outerHTML">{}<input type="hidden" name="compact" value="1">',
            vote_url,
            vote_url,
            csrf,
        )
        closing = mark_safe("</form>")
    else:
        opening = markup('<div class="vote-form" data-refused="{}" title="{}">', refused, refused)
        closing = mark_safe("</div>")
    return markup(
        '<div class="vote vote-compact" id="vote-{}" data-state="{}"{}>\n{}\n{}\n{}\n{}\n{}\n</div>',
        pk,
        state or "none",
        attrs,
        opening,
        _button("positive", "vote-up", "Good (+)", "up", "Good", feedback, can_review),
        _button("negative", "vote-down", "Bad (−)", "down", "Bad", feedback, can_review),
        closing,
        _write_back(vs, pk, state, push, can_review, csrf),
    )


def _button(value, css, title, thumb, label, feedback, can_review) -> SafeString:
    active = feedback == value
    return markup(
        '<button type="submit" name="value" value="{}"{} class="vote-btn {}{}" aria-pressed="{}" title="{}">'
        + _THUMB
        + "</button>",
        value,
        "" if can_review else " disabled",
        css,
        " is-active" if active else "",
        "true" if active else "false",
        "Clear the vote" if active else title,
        thumb,
        label,
    )


def _write_back(vs, pk, state, push, can_review, csrf) -> SafeString:
    if not state:
        return mark_safe('<div class="wb wb-none"></div>')
    if state == "saving":
        inner = mark_safe('<span class="wb-dot"></span>saving…')
    elif state == "retrying":
        inner = markup('<span class="wb-dot"></span><span title="{}">retrying</span>', push.last_error)
    elif state == "saved":
        cleared = not push.feedback and not push.tags
        inner = markup(
            '<span title="{}">✓ {}{}</span>',
            push.note or ("vote removed in Letta" if cleared else "saved to Letta"),
            "cleared" if cleared else "saved",
            mark_safe(" <b>!</b>") if push.note else "",
        )
    elif state == "failed" and not can_review:
        inner = markup('<span title="{}">failed</span>', vs.failure)
    elif state == "failed":
        retry = reverse("step_vote_retry", args=[pk])
        inner = markup(
            '<form method="post" action="{}" hx-post="{}" hx-target="#vote-{}" hx-swap="outerHTML" '
            'class="wb-inline">{}<input type="hidden" name="compact" value="1"><span title="{}">failed</span> '
            '<button type="submit" class="btn-link">retry</button></form>',
            retry,
            retry,
            pk,
            csrf,
            vs.failure,
        )
    elif state == "conflict":
        inner = markup(
            '<a href="{}" title="Letta now says {}; ours is {}">conflict</a>',
            reverse("step_detail", args=[pk]),
            vs.vote.conflict_feedback or "no vote",
            vs.vote.feedback or "no vote",
        )
    elif state == "gone":
        inner = markup('<span title="{}">not sent</span>', GONE_TITLE)
    else:
        inner = mark_safe("")
    return markup('<div class="wb wb-{}">{}</div>', state, inner)
