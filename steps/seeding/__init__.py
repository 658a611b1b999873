"""`manage.py seed_steps`: a realistic mirror of many steps, generated fast and reproducibly.

`catalog` and `generate` are pure (no Django): what the data looks like. `load` writes it,
with COPY on PostgreSQL and bulk_create elsewhere.
"""
