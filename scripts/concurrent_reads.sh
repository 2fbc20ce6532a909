#!/usr/bin/env bash
# Twenty readers of the demo's largest unit scorecard while a lead saves actuals, on the configured
# database (the embedded SQLite file by default); prints the figures (requests, errors, p50/p95 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./dev test tests/test_concurrency.py -q -s -p no:cacheprovider
