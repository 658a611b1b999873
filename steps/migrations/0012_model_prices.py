"""The model price table, prefilled with public list prices (USD per 1 M tokens).

Each row is a list price as the provider published it (standard tier, text, prompts up to
200k tokens where the price is tiered) on the date given: a starting point to check against
the provider's page and your contract, then edit in the admin. Re-running never overwrites a
row someone already has.
"""

import django.core.validators
import django.utils.timezone
from datetime import date
from decimal import Decimal

from django.db import migrations, models

OPENAI = "https://openai.com/api/pricing/"
ANTHROPIC = "https://www.anthropic.com/pricing#api"
GOOGLE = "https://ai.google.dev/gemini-api/docs/pricing"
NOTE = "Public list price on the date shown, to check against the provider's page and your contract."

# model, provider, input, cached input (None: billed as input), output, effective date, source
LIST_PRICES = [
    # OpenAI: cached input is the prompt-caching rate
    ("gpt-4o", "openai", "2.50", "1.25", "10.00", date(2024, 10, 1), OPENAI),
    ("gpt-4o-2024-05-13", "openai", "5.00", None, "15.00", date(2024, 5, 13), OPENAI),
    ("gpt-4o-mini", "openai", "0.15", "0.075", "0.60", date(2024, 7, 18), OPENAI),
    ("gpt-4.1", "openai", "2.00", "0.50", "8.00", date(2025, 4, 14), OPENAI),
    ("gpt-4.1-mini", "openai", "0.40", "0.10", "1.60", date(2025, 4, 14), OPENAI),
    ("gpt-4.1-nano", "openai", "0.10", "0.025", "0.40", date(2025, 4, 14), OPENAI),
    ("gpt-4-turbo", "openai", "10.00", None, "30.00", date(2024, 4, 9), OPENAI),
    ("gpt-3.5-turbo", "openai", "0.50", None, "1.50", date(2024, 1, 25), OPENAI),
    ("o1", "openai", "15.00", "7.50", "60.00", date(2024, 12, 17), OPENAI),
    ("o1-mini", "openai", "1.10", "0.55", "4.40", date(2025, 1, 31), OPENAI),
    ("o3", "openai", "2.00", "0.50", "8.00", date(2025, 6, 10), OPENAI),
    ("o3-mini", "openai", "1.10", "0.55", "4.40", date(2025, 1, 31), OPENAI),
    ("o4-mini", "openai", "1.10", "0.275", "4.40", date(2025, 4, 16), OPENAI),
    ("gpt-5", "openai", "1.25", "0.125", "10.00", date(2025, 8, 7), OPENAI),
    ("gpt-5-mini", "openai", "0.25", "0.025", "2.00", date(2025, 8, 7), OPENAI),
    ("gpt-5-nano", "openai", "0.05", "0.005", "0.40", date(2025, 8, 7), OPENAI),
    # Anthropic: cached input is the cache-read rate (cache writes are billed here as input)
    ("claude-3-haiku", "anthropic", "0.25", "0.03", "1.25", date(2024, 3, 7), ANTHROPIC),
    ("claude-3-opus", "anthropic", "15.00", "1.50", "75.00", date(2024, 3, 4), ANTHROPIC),
    ("claude-3-5-sonnet", "anthropic", "3.00", "0.30", "15.00", date(2024, 6, 20), ANTHROPIC),
    ("claude-3-5-haiku", "anthropic", "0.80", "0.08", "4.00", date(2024, 11, 4), ANTHROPIC),
    ("claude-3-7-sonnet", "anthropic", "3.00", "0.30", "15.00", date(2025, 2, 24), ANTHROPIC),
    ("claude-sonnet-4", "anthropic", "3.00", "0.30", "15.00", date(2025, 5, 22), ANTHROPIC),
    ("claude-opus-4", "anthropic", "15.00", "1.50", "75.00", date(2025, 5, 22), ANTHROPIC),
    ("claude-opus-4-1", "anthropic", "15.00", "1.50", "75.00", date(2025, 8, 5), ANTHROPIC),
    ("claude-sonnet-4-5", "anthropic", "3.00", "0.30", "15.00", date(2025, 9, 29), ANTHROPIC),
    ("claude-haiku-4-5", "anthropic", "1.00", "0.10", "5.00", date(2025, 10, 15), ANTHROPIC),
    # Google: paid tier, prompts up to 128k (1.5) / 200k (2.5) tokens; cached is context caching
    ("gemini-1.5-flash", "google_ai", "0.075", "0.01875", "0.30", date(2024, 8, 12), GOOGLE),
    ("gemini-1.5-pro", "google_ai", "1.25", "0.3125", "5.00", date(2024, 10, 1), GOOGLE),
    ("gemini-2.0-flash", "google_ai", "0.10", "0.025", "0.40", date(2025, 2, 5), GOOGLE),
    ("gemini-2.0-flash-lite", "google_ai", "0.075", None, "0.30", date(2025, 2, 25), GOOGLE),
    ("gemini-2.5-flash", "google_ai", "0.30", "0.075", "2.50", date(2025, 6, 17), GOOGLE),
    ("gemini-2.5-flash-lite", "google_ai", "0.10", "0.025", "0.40", date(2025, 7, 22), GOOGLE),
    ("gemini-2.5-pro", "google_ai", "1.25", "0.31", "10.00", date(2025, 6, 17), GOOGLE),
]


def prefill(apps, schema_editor):
    ModelPrice = apps.get_model("steps", "ModelPrice")
    for model, provider, inp, cached, out, when, source in LIST_PRICES:
        ModelPrice.objects.get_or_create(
            model=model,
            defaults={
                "provider": provider,
                "input_per_mtok": Decimal(inp),
                "cached_input_per_mtok": Decimal(cached) if cached is not None else None,
                "output_per_mtok": Decimal(out),
                "effective_date": when,
                "source": source,
                "notes": NOTE,
            },
        )


class Migration(migrations.Migration):

    dependencies = [
        ('steps', '0009_share_traces_admin_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='ModelPrice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model', models.CharField(help_text="As Letta reports it in a step's model (e.g. gpt-4o-mini), or a whole handle (openai-proxy/gpt-4o-mini) to price one route. Also prices dated variants such as gpt-4o-2024-08-06 that have no row of their own. Stored in lower case.", max_length=255, unique=True)),
                ('provider', models.CharField(blank=True, help_text='For reading only; not used to match.', max_length=64)),
                ('input_per_mtok', models.DecimalField(decimal_places=6, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0'), 'A price cannot be negative.')], verbose_name='input $/1M')),
                ('cached_input_per_mtok', models.DecimalField(blank=True, decimal_places=6, help_text='Empty: cached input tokens are billed at the input price.', max_digits=12, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'), 'A price cannot be negative.')], verbose_name='cached input $/1M')),
                ('output_per_mtok', models.DecimalField(decimal_places=6, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0'), 'A price cannot be negative.')], verbose_name='output $/1M')),
                ('effective_date', models.DateField(default=django.utils.timezone.localdate, help_text='The date this price applies from (or was last checked).')),
                ('source', models.URLField(blank=True, help_text='Where the price was published.')),
                ('notes', models.TextField(blank=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['model'],
                'constraints': [models.CheckConstraint(condition=models.Q(('input_per_mtok__gte', 0), ('output_per_mtok__gte', 0), models.Q(('cached_input_per_mtok__isnull', True), ('cached_input_per_mtok__gte', 0), _connector='OR')), name='steps_modelprice_not_negative')],
            },
        ),
        migrations.RunPython(prefill, migrations.RunPython.noop),
    ]
