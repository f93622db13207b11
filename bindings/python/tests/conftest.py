"""Shared fixtures for the keyfob module tests. The DRF tests (tests/drf/) add their own
Django setup in their conftest; this file stays free of Django."""

from __future__ import annotations

import keyfob
import pytest
from engine_support import SECRET, START

# Projects and suites with Django settings of their own, run in their own processes by
# tests/drf/test_apps.py, test_migration_guide.py and scripts/test-simplejwt-suite.sh /
# scripts/test-packages.sh.
collect_ignore = ["apps_project", "migration_project", "packages", "simplejwt_suite"]


@pytest.fixture
def manual_clock() -> keyfob.ManualClock:
    return keyfob.ManualClock(START)


@pytest.fixture
def engine(manual_clock: keyfob.ManualClock) -> keyfob.Engine:
    """An engine with the default config on the manual clock."""
    return keyfob.Engine(SECRET, clock=manual_clock)
