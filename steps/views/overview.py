"""The overview page: charts over the hourly rollups, each bucket linking to its steps."""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..alerts.views_saved import sidebar as saved_views
from ..cost import price_stamp, usd
from ..filters import without_empty
from ..overview import charts
from ..overview.charts import Bucket, Series
from ..overview.memo import drawn
from ..overview.report import BREAKDOWNS, LINKABLE_STATUSES, OTHER, Overview, OverviewForm, build, time_range
from ..overview.stats import compact, ms, percent

# Parameters of the overview itself, not of the steps behind a bucket.
NOT_PASSED_ON = ("period", "since", "until", "breakdown", "cursor", "live")
FORM_FIELDS = {"period", "agent", "model", "provider", "status", "has_error", "breakdown"}


def _iso(when) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Links:
    """Step-list URLs for a bucket (and a series): the current filters, the bucket's time
    (until is inclusive in the list, so it ends a microsecond before the next bucket).
    A 90-day chart has hundreds of links: the current filters are encoded once per set of
    parameters a link replaces, not once per link."""

    def __init__(self, params: QueryDict, breakdown: str):
        self.base = without_empty(params)
        for key in NOT_PASSED_ON:
            self.base.pop(key, None)
        self.column, self.param = BREAKDOWNS[breakdown]
        self.list_url = reverse("step_list")
        self._encoded: dict[tuple[str, ...], str] = {}
        self._encoded_parts: dict[tuple, str] = {}  # a bucket's time span, a name=value pair

    def series_param(self, value: str) -> str | None:
        """The list filter selecting exactly this series, or None when none can ("other", "")."""
        if value in ("", OTHER) or (self.param == "status" and value not in LINKABLE_STATUSES):
            return None
        return value

    def url(self, bucket: Bucket, series: Series | None = None, **extra) -> str | None:
        replaced, parts = ("since", "until"), [self._span(bucket)]
        if series is not None:
            value = self.series_param(series.key)
            if value is None:
                return None
            extra = {self.param: value, **extra}
        for key, value in extra.items():
            replaced += (key,)
            parts.append(self._pair(key, value))
        return f"{self.list_url}?{self._kept(replaced)}{'&'.join(parts)}"

    def _kept(self, replaced: tuple[str, ...]) -> str:
        """The current filters other than `replaced`, encoded, with a trailing '&' if any."""
        if replaced not in self._encoded:
            kept = self.base.copy()
            for key in replaced:
                kept.pop(key, None)
            self._encoded[replaced] = kept.urlencode() + "&" if kept else ""
        return self._encoded[replaced]

    def _span(self, bucket: Bucket) -> str:
        key = ("", bucket.start, bucket.end)
        if key not in self._encoded_parts:
            since, until = _iso(bucket.start), _iso(bucket.end - timedelta(microseconds=1))
            self._encoded_parts[key] = urlencode({"since": since, "until": until})
        return self._encoded_parts[key]

    def _pair(self, name: str, value: str) -> str:
        key = (name, value, None)
        if key not in self._encoded_parts:
            self._encoded_parts[key] = urlencode({name: value})
        return self._encoded_parts[key]


def _series(overview: Overview) -> list[Series]:
    return [
        Series(key, label, "other" if key == OTHER else f"s{i}")
        for i, (key, label) in enumerate(overview.series)
    ]


def _charts(overview: Overview, links: Links) -> dict[str, charts.Chart]:
    buckets, per = overview.buckets, f"per {overview.range.grain}"
    series = _series(overview)
    steps = {(i, key): g["steps"] for (i, key), g in overview.by_series.items()}
    errors = {(i, key): g.errors for (i, key), g in overview.by_series.items()}
    token_series = [Series("input", "input (uncached)", "s0"), Series("cached", "cached input", "s3")]
    token_series.append(Series("output", "output", "s1"))
    tokens = {}
    latency_series = [Series("p50", "step p50", "s0"), Series("p95", "step p95", "s6 dashed")]
    latency_series += [Series("llm50", "LLM p50", "s2"), Series("llm95", "LLM p95", "s4 dashed")]
    latency, feedback, cost = {}, {}, {}
    for i, g in enumerate(overview.by_bucket):
        tokens[(i, "input")] = g["prompt_tokens"] - g["cached_tokens"]
        tokens[(i, "cached")] = g["cached_tokens"]
        tokens[(i, "output")] = g["completion_tokens"]
        latency[(i, "p50")], latency[(i, "p95")] = g.quantile("duration", 0.5), g.quantile("duration", 0.95)
        latency[(i, "llm50")], latency[(i, "llm95")] = g.quantile("llm", 0.5), g.quantile("llm", 0.95)
        feedback[(i, "positive")], feedback[(i, "negative")] = g["positive"], g["negative"]
        cost[(i, "cost")] = float(g.cost)

    def step_link(bucket, s):
        return links.url(bucket, s)

    def error_link(bucket, s):
        return links.url(bucket, s, has_error="yes")

    def bucket_link(bucket, s):
        return links.url(bucket)

    return {
        "steps": charts.stacked_bars(
            buckets, series, steps, unit=f"steps {per}", fmt=compact, link=step_link, integer=True
        ),
        "errors": charts.stacked_bars(
            buckets, series, errors, unit=f"errors {per}", fmt=compact, link=error_link, integer=True
        ),
        "tokens": charts.stacked_bars(
            buckets, token_series, tokens, unit=f"tokens {per}", fmt=compact, link=bucket_link
        ),
        "latency": charts.lines(
            buckets, latency_series, latency, unit="estimated from a histogram", fmt=ms, link=bucket_link
        ),
        "feedback": charts.stacked_bars(
            buckets,
            [Series("positive", "good", "ok"), Series("negative", "bad", "bad")],
            feedback,
            unit=f"votes {per}",
            integer=True,
            fmt=compact,
            link=bucket_link,
        ),
        "cost": charts.stacked_bars(
            buckets, [Series("cost", "cost", "s4")], cost, unit=f"USD {per}", fmt=_usd_axis, link=bucket_link
        ),
    }


def _usd_axis(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:.3g}" if value else "$0"


def _rows(overview: Overview, links: Links) -> list[dict]:
    """The table view: one row per bucket, every number the charts draw."""
    rows = []
    for i, (bucket, g) in enumerate(zip(overview.buckets, overview.by_bucket, strict=True)):
        rows.append(
            {
                "bucket": bucket,
                "url": links.url(bucket),
                "errors_url": links.url(bucket, has_error="yes"),
                "group": g,
                "series": [overview.by_series.get((i, key)) for key, _ in overview.series],
                "error_rate": percent(g.errors, g["steps"]),
                "p50": ms(g.quantile("duration", 0.5)),
                "p95": ms(g.quantile("duration", 0.95)),
                "llm50": ms(g.quantile("llm", 0.5)),
                "llm95": ms(g.quantile("llm", 0.95)),
                "unreviewed": percent(g["steps"] - g.reviewed, g["steps"]),
                "cost": usd(g.cost) if g.has_cost else "no price",
            }
        )
    return rows


def _drawing(form: OverviewForm, query: QueryDict, now) -> dict:
    """The overview's figures for this query, and their HTML: rollups only, whoever asks."""
    report = build(form, now)
    links = Links(query, report.breakdown)
    total = report.total
    agents = [
        {
            "id": agent_id,
            "label": label,
            "group": g,
            "url": links.url(Bucket(report.range.since, report.range.until, "", ""), None, agent=agent_id)
            if agent_id
            else None,
            "error_rate": percent(g.errors, g["steps"]),
            "p50": ms(g.quantile("duration", 0.5)),
            "p95": ms(g.quantile("duration", 0.95)),
            "p95_ns": g.quantile("duration", 0.95) or 0,
            "cost": usd(g.cost) if g.has_cost else "no price",
        }
        for agent_id, label, g in report.agents
    ]
    whole = Bucket(report.range.since, report.range.until, "", "")
    context = {
        "report": report,
        "charts": _charts(report, links),
        "series": _series(report),
        "rows": _rows(report, links),
        "agents": agents[:12],
        "slowest": sorted((a for a in agents if a["p95_ns"]), key=lambda a: -a["p95_ns"])[:5],
        "error_types": [(e, n, links.url(whole, None, error_type=e)) for e, n in report.error_types],
        "tools": [(t, s, c, links.url(whole, None, tool=t)) for t, s, c in report.tools],
        "range_url": links.url(whole),
        "kpi": {
            "steps": total["steps"],
            "error_rate": percent(total.errors, total["steps"]),
            "errors": total.errors,
            "prompt": total["prompt_tokens"],
            "completion": total["completion_tokens"],
            "cached": total["cached_tokens"],
            "p50": ms(total.quantile("duration", 0.5)),
            "p95": ms(total.quantile("duration", 0.95)),
            "llm50": ms(total.quantile("llm", 0.5)),
            "llm95": ms(total.quantile("llm", 0.95)),
            "positive": total["positive"],
            "negative": total["negative"],
            "unreviewed": percent(total["steps"] - total.reviewed, total["steps"]),
            "cost": usd(total.cost) if total.has_cost else "no price",
            "partial_cost": total.unpriced_tokens > 0 and total.has_cost,
        },
    }
    return {
        "report": report,
        "agents": context["agents"],
        "range_url": context["range_url"],
        "report_html": render_to_string("steps/overview/_report.html", context),
    }


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    form = OverviewForm(request.GET)
    form.is_valid()
    now = timezone.now()
    span = time_range(form.cleaned_data, now)
    query = without_empty(request.GET)
    # what the drawing depends on besides the rollups: the query (its links carry every
    # filter), the buckets, the time zone and the prices
    key = (
        "overview",
        tuple((k, tuple(v)) for k, v in sorted(query.lists())),
        (span.since, span.until, span.grain),
        timezone.get_current_timezone_name(),
        price_stamp(),
    )
    drawing = drawn(key, lambda: _drawing(form, request.GET, now))
    context = {
        **drawing,
        "form": form,
        "breakdowns": [(v, label) for v, label in form.fields["breakdown"].choices],
        # filters the form above has no field for (search, tag, tool ...), kept as they are
        "carried": [(k, v) for k, v in query.items() if k not in FORM_FIELDS],
        "saved_views": saved_views(request.user, counted=False),
        "alert_query": query.urlencode(),
    }
    return render(request, "steps/overview.html", context)
