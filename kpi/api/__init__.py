"""The versioned JSON API (/api/v1/): the same services, selectors and permissions as the pages.

Its own Django app (label "api") for its models — personal access tokens, idempotency keys — so that its
migrations never mix with the kpi app's.
"""
