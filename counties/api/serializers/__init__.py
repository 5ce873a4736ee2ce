"""The API's serializers, one module per domain: `records` (units, provinces, batches and the
writable records), `statistics` (the coverage statistics) and `targets` (targets and results)."""
