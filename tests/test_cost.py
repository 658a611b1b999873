"""Prices, matching and formatting (steps/cost/): the numbers every cost on a page comes from."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from steps.cost import Price, current_prices, step_cost
from steps.cost.format import usd
from steps.cost.matching import match
from steps.models import ModelPrice

D = Decimal


def step(model="gpt-4o-mini", handle="", prompt=1_000_000, completion=0, cached=None):
    return SimpleNamespace(
        model=model,
        model_handle=handle,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_input_tokens=cached,
    )


def test_cost_is_per_million_tokens_and_prices_cached_input_at_its_own_rate():
    price = Price(model="m", input=D("2.00"), output=D("8.00"), cached_input_price=D("0.50"))
    # 10,000 prompt tokens of which 4,000 cached, 500 out: 6,000 x 2 + 4,000 x 0.5 + 500 x 8 per M
    assert price.cost(10_000, 500, 4_000) == D("0.018")
    assert price.parts(10_000, 500, 4_000) == (D("0.012"), D("0.002"), D("0.004"))


def test_cached_input_is_billed_as_input_when_no_cached_rate_is_known():
    price = Price(model="m", input=D("5"), output=D("15"))
    assert price.cost(10_000, 0, 4_000) == price.cost(10_000, 0, 0) == D("0.05")


def test_cost_is_linear_so_it_prices_summed_tokens():
    price = Price(model="m", input=D("0.15"), output=D("0.60"), cached_input_price=D("0.075"))
    rows = [(2578, 17, 0), (4100, 320, 2048), (3000, 12, None)]
    summed = price.cost(sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] or 0 for r in rows))
    assert summed == sum(price.cost(*r) for r in rows)
    assert isinstance(summed, Decimal)


def test_missing_token_counts_cost_nothing_and_cached_never_exceeds_prompt():
    price = Price(model="m", input=D("1"), output=D("1"), cached_input_price=D("0"))
    assert price.cost(None, None, None) == 0
    assert price.cost(100, 0, 500) == 0  # all 100 prompt tokens cached, none negative


@pytest.mark.parametrize(
    ("model", "handle", "priced_as"),
    [
        ("gpt-4o-mini", "openai/gpt-4o-mini", "gpt-4o-mini"),  # exact model
        ("GPT-4o-Mini", "", "gpt-4o-mini"),  # case does not matter
        ("gpt-4o-2024-08-06", "", "gpt-4o"),  # dated variant: the versioned prefix
        ("gpt-4o-2024-05-13", "", "gpt-4o-2024-05-13"),  # its own row beats the prefix
        ("gpt-4o-mini-2024-07-18", "", "gpt-4o-mini"),  # the longest prefix wins
        ("claude-sonnet-4-20250514", "anthropic/claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-3-5-sonnet@20240620", "", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-latest", "", "claude-3-5-sonnet"),
        ("gemini-2.0-flash-001", "", "gemini-2.0-flash"),
        ("gemini-2.5-flash-preview-05-20", "", "gemini-2.5-flash"),
        ("", "openai/gpt-4.1", "gpt-4.1"),  # no model: the handle's last part
        ("my-alias", "openai/gpt-4.1-2025-04-14", "gpt-4.1"),  # the handle's last part, by prefix
    ],
)
def test_matching(model, handle, priced_as):
    prices = {name: name for name in ["gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "gpt-4.1"]}
    prices |= {name: name for name in ["claude-sonnet-4", "claude-3-5-sonnet", "gemini-2.0-flash"]}
    prices |= {"gemini-2.5-flash": "gemini-2.5-flash"}
    assert match(prices, model, handle) == priced_as


@pytest.mark.parametrize(
    ("model", "handle"),
    [
        ("gpt-4o-mini", ""),  # only gpt-4o priced: "mini" is another model, not a version
        ("gemini-2.5-flash-lite", ""),
        ("gpt-4o-audio-preview", ""),
        ("llama3.1:8b", "ollama/llama3.1:8b"),
        ("", ""),
        ("gpt", ""),  # a price name is never matched by a shorter step model
    ],
)
def test_no_match(model, handle):
    assert match({"gpt-4o": 1, "gemini-2.5-flash": 2}, model, handle) is None


def test_a_whole_handle_prices_one_route_before_the_model():
    prices = {"gpt-4o-mini": "list", "openai-proxy/gpt-4o-mini": "proxy"}
    assert match(prices, "gpt-4o-mini", "openai-proxy/gpt-4o-mini") == "proxy"
    assert match(prices, "gpt-4o-mini", "openai/gpt-4o-mini") == "list"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.0123456", "$0.0123"),
        ("0.000456", "$0.000456"),
        ("0.0015", "$0.0015"),
        ("0.01235", "$0.0124"),  # half up
        ("1.5", "$1.50"),
        ("12.345", "$12.35"),
        ("1234.5", "$1,234.50"),
        ("0.0000004", "<$0.000001"),  # tiny is never shown as free
        ("0", "$0"),
    ],
)
def test_usd_format(value, shown):
    assert usd(D(value)) == shown


@pytest.mark.django_db
def test_prices_are_prefilled_dated_and_noted():
    prices = current_prices()
    for name in ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "gpt-5", "claude-sonnet-4", "gemini-2.5-pro"]:
        assert name in prices, name
        assert prices[name].effective_date is not None
    row = ModelPrice.objects.get(model="gpt-4o-mini")
    assert (row.input_per_mtok, row.cached_input_per_mtok, row.output_per_mtok) == (
        D("0.15"),
        D("0.075"),
        D("0.60"),
    )
    assert row.effective_date == date(2024, 7, 18)
    assert "list price" in row.notes and row.source.startswith("https://")
    assert not ModelPrice.objects.filter(notes="").exists()


@pytest.mark.django_db
def test_every_model_the_simulator_emits_has_a_price():
    from steps.simulator.catalog import CLAUDE_SONNET_4, GPT_4O_MINI, GPT_41, PROXY_GPT_4O_MINI

    prices = current_prices()
    for config in (GPT_4O_MINI, GPT_41, CLAUDE_SONNET_4, PROXY_GPT_4O_MINI):
        assert step_cost(step(config.model, config.handle), prices) is not None, config.model


@pytest.mark.django_db
def test_step_cost_is_none_for_an_unknown_model_never_zero(django_assert_num_queries):
    with django_assert_num_queries(1):
        prices = current_prices()
    assert step_cost(step("llama3.1:8b", "ollama/llama3.1:8b"), prices) is None
    # 1 M uncached prompt tokens of gpt-4o-mini at $0.15 / M
    assert step_cost(step("gpt-4o-mini", prompt=1_000_000), prices) == D("0.15")
    assert step_cost(step("gpt-4o-mini", prompt=0), prices) == 0
