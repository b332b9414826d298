"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from market.app import create_app

app = create_app()

# What exists now (the app, its routes, tables, compiled statements, translations) lives as
# long as the worker. Frozen, the collector stops walking it again on each full collection:
# tens of milliseconds every few thousand requests, about 2.5 % of a webhook's time
# (bench/bench_webhooks.py). Everything made later is collected as usual.
gc.freeze()
