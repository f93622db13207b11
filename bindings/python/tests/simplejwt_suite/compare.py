"""Compare a run of simplejwt's suite (JUnit XML) with the failures docs/simplejwt-suite.md
lists. Prints "N passed / 184"; exits non-zero when the suite did not run whole, fewer than
170 passed, a failing test is not listed, or a listed test passed.

Usage: compare.py REPORT.xml LIST.md [PYTEST.log]
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TOTAL = 184
AT_LEAST = 170
KINDS = {"security", "PyJWT"}
ROW = re.compile(r"^\|\s*`(tests/[^`]+)`\s*\|\s*([^|]+?)\s*\|\s*(.+?)\s*\|\s*$")


def outcomes(report: Path) -> dict[str, str]:
    """Test id (tests/file.py::Class::name) -> "passed" | "failed" | "skipped"."""
    result: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module, _, cls = case.get("classname", "").rpartition(".")
        if not module.startswith("tests."):
            module, cls = case.get("classname", ""), ""
        path = module.replace(".", "/") + ".py"
        test_id = "::".join(p for p in (path, cls, case.get("name", "")) if p)
        if case.find("failure") is not None or case.find("error") is not None:
            result[test_id] = "failed"
        elif case.find("skipped") is not None:
            result[test_id] = "skipped"
        else:
            result.setdefault(test_id, "passed")
    return result


def listed(doc: Path) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def main() -> int:
    report, doc = Path(sys.argv[1]), Path(sys.argv[2])
    log = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    results = outcomes(report) if report.exists() else {}
    expected = listed(doc)
    problems: list[str] = []
    if len(results) != TOTAL:
        problems.append(f"the suite ran {len(results)} tests, not {TOTAL}")
    for test_id, (kind, _reason) in sorted(expected.items()):
        if kind not in KINDS:
            problems.append(f"{test_id}: reason kind {kind!r} is not one of {sorted(KINDS)}")
        outcome = results.get(test_id)
        if outcome == "passed":
            problems.append(f"{test_id} passes now: take it off {doc}")
        elif outcome is None:
            problems.append(f"{test_id} is listed in {doc} but did not run")
    for test_id, outcome in sorted(results.items()):
        if outcome != "passed" and test_id not in expected:
            problems.append(f"{test_id} {outcome}, and {doc} does not list it")
    passed = sum(1 for o in results.values() if o == "passed")
    print(f"simplejwt's suite on keyfob.drf: {passed} passed / {TOTAL}")
    if passed < AT_LEAST:
        problems.append(f"only {passed} passed; at least {AT_LEAST} must")
    if problems:
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        if log is not None and log.exists():
            print("--- pytest output (tail) ---", file=sys.stderr)
            print("\n".join(log.read_text().splitlines()[-60:]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
