"""docs/migrating.md, followed by a project: the small simplejwt project in
tests/migration_project passes its own tests on simplejwt, then on keyfob after exactly the
guide's shell steps (taken from the guide) are applied to a copy of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parents[2]
GUIDE = REPO / "docs" / "migrating.md"
STEPS = re.compile(
    r"<!-- migration-steps:begin -->\s*```sh\n(.*?)```\s*<!-- migration-steps:end -->", re.S
)


def guide_steps() -> str:
    match = STEPS.search(GUIDE.read_text(encoding="utf-8"))
    assert match, "docs/migrating.md has no migration-steps block"
    return match.group(1)


def project_tests(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_guide_migrates_a_simplejwt_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(TESTS / "migration_project", project)
    before = project_tests(project, {})
    assert before.returncode == 0, before.stdout + before.stderr  # a real simplejwt project

    subprocess.run(["bash", "-euo", "pipefail", "-c", guide_steps()], cwd=project, check=True)
    sources = "".join(p.read_text() for p in project.rglob("*.py"))
    assert "rest_framework_simplejwt" not in sources and "SIMPLE_JWT" not in sources

    # Importing simplejwt now fails, so the green run below is keyfob's alone.
    blocker = tmp_path / "blocker" / "rest_framework_simplejwt"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("simplejwt is gone")\n')
    after = project_tests(project, {"PYTHONPATH": str(blocker.parent)})
    assert after.returncode == 0, after.stdout + after.stderr
    assert "6 passed" in after.stdout
