"""Costs on the list, step and run pages, and prices edited in the admin."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from steps.models import ModelPrice, Step
from tests.factories import BASE_TIME, RunFactory, StepFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def admin_client():
    # its own Client: a test can hold an ordinary user's session next to it
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


def cost_cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<div class="sub row-cost">(.*?)</div>', html)
    ]


def with_cached(step, cached: int):
    Step.objects.filter(pk=step.pk).update(cached_input_tokens=cached)
    return step


def test_list_shows_each_steps_cost_and_no_price_for_an_unknown_model(user_client):
    # gpt-4o-mini at $0.15 in / $0.60 out per M: 2,578 x 0.15 + 17 x 0.60 per M = $0.0003969
    StepFactory(model="gpt-4o-mini", step_time=BASE_TIME)
    StepFactory(model="llama3.1:8b", provider_name="ollama", step_time=BASE_TIME + timedelta(seconds=1))
    html = user_client.get(reverse("step_list")).content.decode()
    assert '<div class="th-sub"' in html
    assert cost_cells(html) == ["no price", "$0.000397"]
    assert "$0<" not in html  # the unknown model is never shown as free


def test_list_cost_prices_cached_input_tokens(user_client):
    # gpt-4.1: $2 in, $0.50 cached, $8 out. 10,000 prompt (8,192 cached) + 100 out:
    # 1,808 x 2 + 8,192 x 0.5 + 100 x 8 = 8,512 per M = $0.008512
    with_cached(StepFactory(model="gpt-4.1", prompt_tokens=10_000, completion_tokens=100), 8_192)
    assert cost_cells(user_client.get(reverse("step_list")).content.decode()) == ["$0.00851"]


def test_pending_step_without_tokens_shows_a_dash(user_client):
    StepFactory(prompt_tokens=None, completion_tokens=None, status="pending")
    assert cost_cells(user_client.get(reverse("step_list")).content.decode()) == ["—"]


@pytest.mark.parametrize("n", [2, 45])
def test_the_cost_column_costs_one_query_per_page_not_one_per_row(user_client, django_assert_num_queries, n):
    models = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-20250514", "no-such-model"]
    for i in range(n):
        StepFactory(model=models[i % 4], step_time=BASE_TIME + timedelta(seconds=i))
    user_client.get(reverse("step_list"))  # warms the facet cache
    # session, user, steps page, local votes, newest pushes, message previews, agent names,
    # model prices: the same for 2 rows and 45
    with django_assert_num_queries(9) as ctx:  # 9: the sparkline's rollups query
        response = user_client.get(reverse("step_list"), headers=HX)
    assert len(cost_cells(response.content.decode())) == n
    assert sum('FROM "steps_modelprice"' in q["sql"] for q in ctx.captured_queries) == 1


def test_live_rows_carry_the_cost(user_client):
    StepFactory(model="gpt-4o-mini")
    response = user_client.get(reverse("step_list_live") + "?live=1")
    assert cost_cells(response.content.decode()) == ["$0.000397"]


def test_step_page_breaks_the_cost_down_with_the_price_date(user_client):
    step = with_cached(StepFactory(model="gpt-4.1", prompt_tokens=10_000, completion_tokens=100), 8_192)
    html = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    assert "Cost $0.00851" in text
    assert "in $0.00362 (1,808 × $2.00/M)" in text
    assert "cached $0.0041 (8,192 × $0.50/M)" in text
    assert "out $0.0008 (100 × $8.00/M)" in text
    assert "gpt-4.1 list price of 14 Apr 2025" in text
    assert "/admin/steps/modelprice/" not in html  # an ordinary user gets no admin link


def test_step_page_says_no_price_and_links_admins_to_add_one(user_client, admin_client):
    step = StepFactory(model="llama3.1:8b", provider_name="ollama")
    html = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert '<span class="no-price"' in html and "add a price" not in html
    html = admin_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    add = reverse("admin:steps_modelprice_add") + "?model=llama3.1%3A8b&amp;provider=ollama"
    assert f'href="{add}">add a price</a>' in html
    # the link opens the admin's form with the model filled in
    form = admin_client.get(add.replace("&amp;", "&")).content.decode()
    assert 'value="llama3.1:8b"' in form


def test_shared_page_shows_no_cost(client):
    from steps.pages import share

    step = StepFactory()
    link = share.create_link(step, None, "1d")
    html = client.get(reverse("shared_step", args=[share.signed_token(link)])).content.decode()
    assert "step-cost" not in html


def test_run_page_totals_priced_steps_and_counts_the_rest(user_client):
    run = RunFactory()
    StepFactory(run_id=run.id, model="gpt-4o-mini", prompt_tokens=1_000_000, completion_tokens=0)
    StepFactory(run_id=run.id, model="gpt-4o-mini", prompt_tokens=0, completion_tokens=1_000_000)
    StepFactory(run_id=run.id, model="mystery-model")
    html = user_client.get(reverse("run_detail", args=[run.id])).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "$0.75 cost · 1 step without a price" in text  # $0.15 + $0.60, the unknown not counted
    per_step = re.findall(r'<span class="num muted run-step-cost">(.*?)</span>\s*<span', html)
    assert [re.sub(r"<[^>]+>", "", c) for c in per_step] == ["$0.15", "$0.60", "no price"]


def test_run_page_of_only_unknown_models_says_no_price(user_client):
    run = RunFactory()
    StepFactory(run_id=run.id, model="mystery-model")
    html = user_client.get(reverse("run_detail", args=[run.id])).content.decode()
    assert re.search(r'<div class="stat-value"><span class="no-price">no price</span></div>', html)
    assert "$0<" not in html


def test_admin_edit_changes_the_displayed_cost(admin_client):
    step = StepFactory(model="gpt-4o-mini", prompt_tokens=1_000_000, completion_tokens=0)
    price = ModelPrice.objects.get(model="gpt-4o-mini")
    assert cost_cells(admin_client.get(reverse("step_list")).content.decode()) == ["$0.15"]
    form = admin_client.get(reverse("admin:steps_modelprice_change", args=[price.pk]))
    assert form.status_code == 200
    response = admin_client.post(
        reverse("admin:steps_modelprice_change", args=[price.pk]),
        {
            "model": "gpt-4o-mini",
            "provider": "openai",
            "input_per_mtok": "0.30",
            "cached_input_per_mtok": "",
            "output_per_mtok": "0.60",
            "effective_date": "2026-12-01",
            "source": "",
            "notes": "negotiated",
        },
    )
    assert response.status_code == 302
    assert cost_cells(admin_client.get(reverse("step_list")).content.decode()) == ["$0.30"]
    page = admin_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert "list price of 1 Dec 2026" in page


def test_admin_adds_a_price_for_an_unknown_model_in_any_case(admin_client):
    StepFactory(model="Mystery-Model", prompt_tokens=2_000_000, completion_tokens=0)
    response = admin_client.post(
        reverse("admin:steps_modelprice_add"),
        {
            "model": "  MYSTERY-model ",
            "input_per_mtok": "1",
            "output_per_mtok": "2",
            "effective_date": "2026-12-01",
        },
    )
    assert response.status_code == 302
    assert ModelPrice.objects.filter(model="mystery-model").exists()
    assert cost_cells(admin_client.get(reverse("step_list")).content.decode()) == ["$2.00"]


@pytest.mark.parametrize("field", ["input_per_mtok", "cached_input_per_mtok", "output_per_mtok"])
def test_admin_refuses_a_negative_price(admin_client, field):
    price = ModelPrice.objects.get(model="gpt-4o")
    data = {
        "model": "gpt-4o",
        "input_per_mtok": "2.5",
        "cached_input_per_mtok": "1.25",
        "output_per_mtok": "10",
        "effective_date": "2024-10-01",
    }
    response = admin_client.post(
        reverse("admin:steps_modelprice_change", args=[price.pk]), {**data, field: "-1"}
    )
    assert response.status_code == 200  # the form again, with the error next to the field
    assert "A price cannot be negative." in response.content.decode()
    price.refresh_from_db()
    assert price.input_per_mtok == Decimal("2.5") and price.output_per_mtok == Decimal("10")


def test_admin_refuses_a_duplicate_model(admin_client):
    response = admin_client.post(
        reverse("admin:steps_modelprice_add"),
        {"model": "GPT-4o", "input_per_mtok": "1", "output_per_mtok": "2", "effective_date": "2026-12-01"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_database_refuses_a_negative_price():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ModelPrice.objects.create(model="x", input_per_mtok=Decimal(-1), output_per_mtok=Decimal(1))


def test_admin_price_list_is_searchable(admin_client):
    html = admin_client.get(reverse("admin:steps_modelprice_changelist") + "?q=claude").content.decode()
    assert "claude-sonnet-4" in html and "gpt-4o-mini" not in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "gpt\x00x"),
        ("model", "m" * 300),
        ("model", "   "),
        ("input_per_mtok", "NaN"),
        ("input_per_mtok", "Infinity"),
        ("output_per_mtok", "1e30"),
        ("output_per_mtok", "0.0000001"),  # finer than the 6 decimals stored
        ("effective_date", "99999-01-01"),
    ],
)
def test_admin_form_refuses_hostile_values_without_a_500(admin_client, field, value):
    data = {
        "model": "new-model",
        "input_per_mtok": "1",
        "output_per_mtok": "2",
        "effective_date": "2026-12-01",
    }
    response = admin_client.post(reverse("admin:steps_modelprice_add"), {**data, field: value})
    # the form again with the field's error, or the site's 400 for a NUL in any input
    assert response.status_code in (200, 400)
    assert response.status_code == 400 or "errorlist" in response.content.decode()
    assert not ModelPrice.objects.filter(model__startswith="new-model").exists()


def test_admin_list_edit_refuses_a_negative_price_and_saves_a_good_one(admin_client):
    price = ModelPrice.objects.get(model="gpt-4o-mini")
    url = reverse("admin:steps_modelprice_changelist") + "?q=gpt-4o-mini"
    assert admin_client.get(url).context["cl"].result_count == 1

    def post(inp):
        return admin_client.post(
            url,
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": str(price.pk),
                "form-0-input_per_mtok": inp,
                "form-0-cached_input_per_mtok": "0.075",
                "form-0-output_per_mtok": "0.60",
                "form-0-effective_date": "2024-07-18",
                "_save": "Save",
            },
        )

    refused = post("-0.15")
    assert refused.status_code == 200 and "A price cannot be negative." in refused.content.decode()
    price.refresh_from_db()
    assert price.input_per_mtok == Decimal("0.15")
    assert post("0.20").status_code == 302
    price.refresh_from_db()
    assert price.input_per_mtok == Decimal("0.20")
