"""Test-only WSGI entry point: examples/django as shipped, plus two things the multi-worker
tests need and the example must not carry.

- Every response says which gunicorn worker made it (``X-Worker-Pid``).
- ``X-Test-Hold-Ms: N`` keeps the worker busy for N ms after the app has answered, so that
  requests sent together land on different (sync) workers: that is how a test reaches
  every worker on purpose instead of by luck."""

import os
import time

from django_jwt.wsgi import application as example


def application(environ, start_response):
    def start_with_pid(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

    body = example(environ, start_with_pid)
    hold_ms = environ.get("HTTP_X_TEST_HOLD_MS")
    if hold_ms:
        time.sleep(int(hold_ms) / 1000)
    return body
