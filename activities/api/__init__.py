"""The read-only API (/api/): Django REST framework views over the published records,
filtered by the list pages' FilterSets, described by drf-spectacular's OpenAPI schema."""
