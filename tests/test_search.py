"""Search: ids from the trigram indexes first, a newest-first walk for common words, a window
for terms too short for a trigram; the same matches whichever plan runs."""

import pytest
from django.db import connection
from django.urls import reverse

from steps.models import Step
from steps.search import SHORT_TERM, candidate_ids, estimated_matches, match_sources, matching, walks
from tests.factories import MessageFactory, ProviderTraceFactory, StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def listed(client, query: str) -> list[str]:
    response = client.get(reverse("step_list") + "?" + query, headers=HX)
    assert response.status_code == 200
    return [step.pk for step, _ in response.context["rows"]]


def found(term: str) -> set[str]:
    return set(matching(Step.objects.all(), term).values_list("pk", flat=True))


@pytest.fixture
def corpus():
    """Steps in Latin, Cyrillic and CJK text, one matching only in its trace response."""
    texts = {
        "latin": "Please check the weather in Paris tomorrow",
        "cyrillic": "Какая погода будет завтра в Москве?",
        "cjk": "明天北京的天气怎么样？请查一下日志文件",
        "mixed": "Résumé: PARIS weather report, погода хорошая",
    }
    steps = {}
    for name, text in texts.items():
        steps[name] = StepFactory()
        MessageFactory(step=steps[name], content=text)
    steps["trace"] = StepFactory()
    ProviderTraceFactory(step=steps["trace"], response_json={"choices": [{"text": "Sunny over Paris"}]})
    steps["other"] = StepFactory()
    MessageFactory(step=steps["other"], content="nothing to see")
    return steps


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("weather", {"latin", "mixed"}),
        ("PARIS", {"latin", "mixed", "trace"}),
        ("погода", {"cyrillic", "mixed"}),
        ("ПОГОДА", {"cyrillic", "mixed"}),
        ("天气怎么", {"cjk"}),
        ("日志文件", {"cjk"}),
        ("résumé", {"mixed"}),
        ("sunny", {"trace"}),
        ("absent-word", set()),
    ],
)
def test_every_plan_finds_the_same_steps(corpus, settings, term, expected):
    want = {corpus[name].pk for name in expected}
    assert found(term) == want  # from the indexes
    settings.SEARCH_CANDIDATES = 1  # every word is "common": the walk
    assert found(term) == want


def test_a_probe_that_reaches_the_cap_falls_back_to_the_walk(corpus, settings):
    pattern = "%paris%"
    assert candidate_ids(pattern, 10) == {corpus[n].pk for n in ("latin", "mixed", "trace")}
    assert candidate_ids(pattern, 2) is None  # two messages reached the cap
    assert set(estimated_matches(pattern)) == {"steps_message", "steps_providertrace"}


@pytest.mark.parametrize(
    ("estimate", "share", "walked"),
    [
        # one ANALYZE histogram bound held the word: ~1 % of the messages assumed, 189 there
        (20_600, 0.0065, False),
        (238_516, 0.075, True),  # a word in one message of thirteen: the walk
    ],
)
def test_an_estimate_over_the_cap_is_checked_against_the_index_unless_the_word_is_common(
    corpus, settings, monkeypatch, estimate, share, walked
):
    monkeypatch.setattr("steps.search.estimated_matches", lambda pattern: {"steps_message": estimate})
    monkeypatch.setattr("steps.search.largest_share", lambda estimates: share)
    qs = matching(Step.objects.all(), "paris")
    assert walks(qs) is walked
    assert set(qs.values_list("pk", flat=True)) == {corpus[n].pk for n in ("latin", "mixed", "trace")}


def test_an_index_probe_that_takes_too_long_gives_way_to_the_walk(corpus, settings, monkeypatch):
    settings.SEARCH_PROBE_MS = 50
    monkeypatch.setattr("steps.search.estimated_matches", lambda pattern: {"steps_message": 20_600})
    monkeypatch.setattr("steps.search.largest_share", lambda estimates: 0.0065)

    def slow_probe(pattern, cap):  # a common word's bitmap, filled slowly
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        raise AssertionError("PostgreSQL should have cancelled the probe")

    monkeypatch.setattr("steps.search.candidate_ids", slow_probe)
    qs = matching(Step.objects.all(), "paris")
    assert walks(qs)
    assert set(qs.values_list("pk", flat=True)) == {corpus[n].pk for n in ("latin", "mixed", "trace")}


def test_terms_shorter_than_a_trigram_search_the_newest_steps(corpus, settings, user_client):
    assert found("北京") == {corpus["cjk"].pk}
    assert found("в ") == {corpus["cyrillic"].pk}
    html = user_client.get(reverse("step_list"), {"q": "北京"}, headers=HX).content.decode()
    assert "under 3 characters are looked for in the newest 20,000 steps" in html
    # beyond the window: the newest steps only
    settings.SEARCH_SHORT_TERM_WINDOW = 2
    newest = set(Step.objects.order_by("-step_time", "-id").values_list("pk", flat=True)[:2])
    assert corpus["cjk"].pk not in newest and found("北京") == set()
    assert len("北京") < SHORT_TERM


def test_a_long_term_has_no_note(corpus, user_client):
    html = user_client.get(reverse("step_list"), {"q": "weather"}, headers=HX).content.decode()
    assert "looked for in the newest" not in html


def test_search_results_page_newest_first_and_combine_with_filters(user_client, settings):
    steps = [StepFactory(model="m-a" if i % 2 else "m-b") for i in range(7)]
    for step in steps:
        MessageFactory(step=step, content="needle in a haystack")
    newest_first = [s.pk for s in sorted(steps, key=lambda s: s.step_time, reverse=True)]
    for cap in (2000, 1):  # the index plan and the walk page alike
        settings.SEARCH_CANDIDATES = cap
        assert listed(user_client, "q=needle") == newest_first
        assert listed(user_client, "q=needle&model=m-a") == [
            pk for pk in newest_first if Step.objects.get(pk=pk).model == "m-a"
        ]


def plan(qs) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # what the indexes can serve at all
        try:
            return qs.explain()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")


def test_no_plan_scans_traces_or_messages_without_an_index(corpus, settings):
    for cap in (2000, 1):  # the index plan, the walk
        settings.SEARCH_CANDIDATES = cap
        shown = plan(matching(Step.objects.all(), "weather").order_by("-step_time", "-id")[:51])
        assert "Seq Scan on steps_providertrace" not in shown
        assert "Seq Scan on steps_message" not in shown
        assert "hashed SubPlan" not in shown
    for rows in match_sources("%weather%"):
        assert "trgm" in plan(rows.values("step_id"))
