"""Behaviour that needs its own Django process (tests/apps_project): keyfob's blacklist app,
switching a database from simplejwt's blacklist app, ``install_as_simplejwt``, and the system
checks at ``manage.py check`` / ``migrate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def run(scenario: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "APPS_DB": str(tmp_path / "db.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "apps_project.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, *scenario],
        cwd=TESTS,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def scenario(name: str, tmp_path: Path, *args: str, **env: str) -> str:
    done = run(["-m", "apps_project.scenarios", name, *args], tmp_path, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("name", ["blacklist_app", "blacklist_admin", "flush"])
def test_blacklist_app(name: str, tmp_path: Path) -> None:
    scenario(name, tmp_path, APPS_BLACKLIST="keyfob")


def test_without_the_blacklist_app_no_query_is_made(tmp_path: Path) -> None:
    scenario("no_app", tmp_path, APPS_BLACKLIST="none")


def test_a_database_migrated_by_simplejwts_app_is_used_as_it_is(tmp_path: Path) -> None:
    jtis = scenario("simplejwt_db", tmp_path, APPS_BLACKLIST="simplejwt").split()[:2]
    scenario("switched", tmp_path, *jtis, APPS_BLACKLIST="keyfob")


def test_install_as_simplejwt(tmp_path: Path) -> None:
    scenario("alias", tmp_path, APPS_BLACKLIST="alias")


@pytest.mark.parametrize("command", ["check", "migrate"])
def test_a_short_signing_key_fails_the_system_checks(command: str, tmp_path: Path) -> None:
    done = run(["-m", "django", command], tmp_path, APPS_SECRET="too-short")
    assert done.returncode != 0
    assert "keyfob.E001" in done.stderr
    assert "at least 32 bytes" in done.stderr and "SIGNING_KEY" in done.stderr


def test_unknown_keys_are_a_warning_and_requests_keep_working(tmp_path: Path) -> None:
    env = {"APPS_KEYFOB": '{"TOKEN_BLACKLIST_ENABLED": true, "ACCESS_TOKEN_LIFETIME": 60}'}
    done = run(["-m", "django", "check"], tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert "keyfob.W001" in done.stderr and "TOKEN_BLACKLIST_ENABLED" in done.stderr
    assert "ACCESS_TOKEN_LIFETIME" not in done.stderr
    scenario("no_app", tmp_path, APPS_BLACKLIST="none", **env)


def test_good_settings_pass_the_checks(tmp_path: Path) -> None:
    done = run(["-m", "django", "check"], tmp_path)
    assert done.returncode == 0 and "keyfob" not in done.stderr, done.stderr
