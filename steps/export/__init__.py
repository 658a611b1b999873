"""Exports of a filtered step set as CSV, JSONL or fine-tuning JSONL, streamed.

Pure builders (``records``, ``rows``, ``finetune``: no Django import) turn plain step records into
CSV rows, JSONL objects and OpenAI chat fine-tuning examples; ``walk`` reads the steps in keyset
chunks; ``stream`` makes the response (``stream_export``, ``export_from_query``); ``views`` is the
page route. Import the Django side from ``steps.export.stream``: this package's ``__init__`` stays
empty so the pure modules import without Django settings.
"""
