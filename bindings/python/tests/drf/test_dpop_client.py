"""examples/django/dpop_client.py, run against the example project on a
live runserver, logs in with DPoP and shows the stolen tokens failing."""

from __future__ import annotations

import subprocess
import sys

from .test_article import EXAMPLE, live_server_url

__all__ = ["live_server_url"]  # the fixture, imported for this module's test


def test_the_dpop_client_example_against_a_real_server(live_server_url: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "dpop_client.py"), live_server_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "all as expected" in lines
    assert not [line for line in lines if line.startswith("[FAILED]")]
    thefts = [line for line in lines if line.startswith("[ok ] stolen")]
    assert len(thefts) == 4, done.stdout
    assert any(
        line.strip().startswith('WWW-Authenticate: DPoP error="invalid_dpop_proof"')
        for line in lines
    ), done.stdout
