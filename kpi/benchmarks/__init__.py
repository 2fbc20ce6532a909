"""Benchmarks: the machinery of `bench_pages` (and the throwaway database `bench_scoring` shares).

- `database`: a scratch database on the configured backend, always dropped; its URL for subprocesses;
- `world`: a province-sized world (a finance bureau, 主管部门, units, projects, goal tables, approved
  actuals, budgets and execution) built in bulk, then scored through the real rescore path;
- `timing`: percentiles and the in-process page measurement (django.test.Client, queries, bytes);
- `servers`: gunicorn on the production settings, a real Celery worker, a private broker for both;
- `load`: the HTTP load driver (logged-in sessions, N users in a loop);
- `jobs`: the save-to-visible-score latency during a bulk rescore, the bulk actuals import rate.

Nothing here runs in a request; it measures what the site does, it does not change it.
"""
