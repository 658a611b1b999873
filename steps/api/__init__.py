"""The REST API (/api/v1/): DRF views over the same filter form, querysets and outbox as the pages."""
