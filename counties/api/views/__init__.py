"""The API's views, one module per domain, as the serializers: `records`, `statistics` and `targets`
(`counties/api/urls.py` routes each)."""
