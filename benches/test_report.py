"""The bench report from a fixed set of results: every section shows its measured figures,
ratios and verdicts, a part that could not run shows its reason and keeps its targets in the
summary, and the summary counts what was met. (No timing here: the figures are fixtures.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import report

CRITERION_NS = {
    "keyfob_validate": 400.0,
    "keyfob_verify": 420.0,
    "keyfob_login": 1000.0,
    "keyfob_refresh": 1500.0,
    "jsonwebtoken_decode": 1800.0,
    "jsonwebtoken_encode": 1100.0,
    "ring_hmac_sign": 360.0,
}

RESULTS = {
    "callgrind.json": {
        "validate": 3000,
        "verify": 3100,
        "login": 9000,
        "refresh": 12000,
        "jwt_decode": 11000,
        "jwt_encode": 8000,
        "hmac_sign": 2500,
    },
    "login.json": {
        "login_ns": 800.0,
        "encode_ns": 780.0,
        "ratio": 1.95,
        "rounds": 31,
        "live_sessions": 100000,
        "batch": 16384,
    },
    "scale.json": {
        "pool_tokens": 65536,
        "validate_ns": {"1000": 460.0, "100000": 500.0, "1000000": 510.0},
        "ratio_largest_smallest": 1.1,
        "threads": {"cpu_ratio": 1.9, "wall_ratio": 1.5, "loadavg": "1.80"},
        "memory": {"sessions": 1000000, "bytes_per_session": 134.0},
    },
    "stores.json": {
        "sessions": 100000,
        "latency_calls": 3000,
        "throughput_ms": 300,
        "loadavg": "1.50",
        "memory": {
            "validate": {
                "median_ns": 700.0,
                "p99_ns": 1400.0,
                "one_thread_per_s": 2000000,
                "two_threads_per_s": 3900000,
            },
            "refresh": {
                "median_ns": 1500.0,
                "p99_ns": 3000.0,
                "one_thread_per_s": 700000,
                "two_threads_per_s": 1300000,
            },
        },
        "redis": {
            "validate": {
                "median_ns": 100000.0,
                "p99_ns": 200000.0,
                "one_thread_per_s": 14000,
                "two_threads_per_s": 35000,
            },
            "refresh": {
                "median_ns": 110000.0,
                "p99_ns": 220000.0,
                "one_thread_per_s": 9500,
                "two_threads_per_s": 23000,
            },
        },
        "redis_near": {
            "validate": {
                "median_ns": 1050.0,
                "p99_ns": 90000.0,
                "one_thread_per_s": 900000,
                "two_threads_per_s": 1500000,
            },
            "refresh": {
                "median_ns": 120000.0,
                "p99_ns": 230000.0,
                "one_thread_per_s": 9000,
                "two_threads_per_s": 22000,
            },
        },
        "redis_ping": {"median_ns": 80000.0},
        "commands_per_validate": {
            "near": {"commands": 0.002, "round_trips": 0.001},
            "direct": {"commands": 3.05, "round_trips": 1.0},
        },
        "visibility": {
            "near": {
                "idle": {"median_ns": 70000, "p99_ns": 2400000, "max_ns": 7800000, "trials": 1000},
                "loaded": {
                    "median_ns": 80000,
                    "p99_ns": 12000000,
                    "max_ns": 21000000,
                    "trials": 1000,
                },
            },
            "direct": {
                "idle": {"median_ns": 40000, "p99_ns": 95000, "max_ns": 250000, "trials": 1000},
                "loaded": {
                    "median_ns": 120000,
                    "p99_ns": 3300000,
                    "max_ns": 5200000,
                    "trials": 1000,
                },
            },
        },
    },
    "c.json": {
        "validate_ns": 410.0,
        "validate_into_ns": 600.0,
        "rust_validate_ns": 400.0,
        "rust_validate_into_ns": 580.0,
        "ratio": 1.05,
        "ratio_into": 1.25,
        "runs": 15,
    },
    "c_callgrind.json": {"c_validate": 3130},
    "python.json": {
        "keyfob_validate": 800.0,
        "pyjwt_decode": 47000.0,
        "simplejwt_access_token": 60000.0,
        "keyfob_login": 1300.0,
        "pyjwt_encode": 20000.0,
        "simplejwt_for_user_pair": 90000.0,
        "keyfob_refresh": 1600.0,
        "simplejwt_refresh_rotate": 158000.0,
        "python": "3.11.7",
    },
    "drf.json": {
        "keyfob_stateless": 3200.0,
        "simplejwt_stateless": 67000.0,
        "keyfob_db_user": 285000.0,
        "simplejwt_db_user": 400000.0,
        "http": {
            "keyfob_rps": 430.0,
            "simplejwt_rps": 433.0,
            "seconds": 6,
            "server": "gunicorn gthread, 1 worker x 4 threads",
            "client": "wrk -t2 -c8",
        },
    },
}


def write_run(tmp_path: Path, skip: tuple[str, ...] = ()) -> report.Run:
    """A results directory and a criterion tree holding the fixtures above."""
    results = tmp_path / "results"
    results.mkdir()
    for name, value in RESULTS.items():
        if name.split(".")[0] not in skip:
            (results / name).write_text(json.dumps(value))
    (results / "stores_redis_version.txt").write_text("7.0.15\n")
    criterion = tmp_path / "criterion" / "rust"
    for bench, ns in CRITERION_NS.items():
        estimates = criterion / bench / "new" / "estimates.json"
        estimates.parent.mkdir(parents=True)
        estimates.write_text(json.dumps({"median": {"point_estimate": ns}}))
    return report.Run(results, criterion)


def section(md: str, heading: str) -> str:
    """The text of one `## heading` section."""
    start = md.index(f"## {heading}\n")
    end = md.find("\n## ", start + 1)
    return md[start : end if end >= 0 else len(md)]


def row(text: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is `first_cell`."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{text}")


def test_sections_in_order(tmp_path: Path) -> None:
    md = report.report(write_run(tmp_path))
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "Rust (criterion)",
        "Scale",
        "Stores: memory vs Redis",
        "C ABI",
        "Python",
        "Django REST framework",
        "Targets",
    ]


def test_rust_ratios_and_instructions(tmp_path: Path) -> None:
    rust = section(report.report(write_run(tmp_path)), "Rust (criterion)")
    validate = row(rust, "`validate` (session-bound, sliding touch)")
    assert validate[1:5] == ["400 ns", "jsonwebtoken `decode`", "1.80 µs", "4.50x met"]
    assert validate[6] == "3,000 / 11,000"
    verify = row(rust, "`verify` (signature + claims + session read)")
    assert verify[4] == "1.17x met"  # keyfob / floor: lower is better
    login = row(rust, "`login` (session + access + refresh)")
    assert login[3:5] == ["2.20 µs", "2.20x met"]
    assert login[6] == "9,000 / 16,000"  # against two encodes
    refresh = row(rust, "`refresh` (rotation, chained)")
    assert refresh[4:6] == ["1.47x", "— (no target)"]
    steady = row(rust, "`login`, store in steady state (100,000 live sessions, interleaved)")
    assert steady[1:5] == ["800 ns", "2 × jsonwebtoken `encode`", "1.56 µs", "1.95x"]
    assert steady[5:7] == ["— (no target)", "—"]


def test_scale_stores_c_python_drf_figures(tmp_path: Path) -> None:
    md = report.report(write_run(tmp_path))
    scale = section(md, "Scale")
    assert row(scale, "1e6 / 1e3")[1:] == ["1.10x", "≤ 1.2x", "met"]
    assert row(scale, "resident memory per live session, 1e6 sessions")[1:] == [
        "134 B",
        "≤ 200 B",
        "met",
    ]
    stores = section(md, "Stores: memory vs Redis")
    assert row(stores, "`validate`")[2:] == ["700 ns", "1.05 µs", "100.00 µs", "1.50x", "142.86x"]
    assert "| `refresh` | 110.00 µs | 80.00 µs | 1.38x |" in stores
    near = "`validate`, warm, median: Redis with near cache / memory"
    assert row(stores, near)[1:] == ["1.50x", "142.86x", "≤ 2x", "met"]
    commands = "Redis commands per validate, steady state (scripts' own included)"
    assert row(stores, commands)[1:] == ["0.00200", "3.05000", "≤ 0.05", "met"]
    loaded = "revocation refused by another process, both processes validating, p99 (1,000 trials)"
    assert row(stores, loaded)[1:] == ["12.00 ms", "3.30 ms", "≤ 10 ms", "**missed**"]
    assert "Wall clock. Redis 7.0.15" in stores
    c = section(md, "C ABI")
    assert "1.05x met" in c and "1.25x **missed**" in c and "3,130 / 3,000" in c
    python = section(md, "Python")
    assert "75.00x met" in python and "58.75x met" in python
    assert "| `Engine.login(user)` | 1.30 µs | 2 × PyJWT `jwt.encode` | 40.00 µs |" in python
    drf = section(md, "Django REST framework")
    assert "20.94x met" in drf and "1.40x met" in drf
    assert row(drf, "requests/second (wall clock)")[1:] == ["430", "433", "0.99x"]


def test_summary_counts_every_target(tmp_path: Path) -> None:
    targets = section(report.report(write_run(tmp_path)), "Targets")
    expected = sum(len(part) for part in report.TARGETS.values())
    assert targets.count(" | met |") + targets.count("**missed**") == expected
    assert f"{expected - 2} of {expected} targets met in this run, 2 missed." in targets


@pytest.mark.parametrize("part", ["scale", "stores", "c", "python", "drf"])
def test_a_part_that_did_not_run(tmp_path: Path, part: str) -> None:
    run = write_run(tmp_path, skip=(part,))
    (run.results / f"{part}.unavailable").write_text("no compiler on this machine\n")
    md = report.report(run)
    assert "not available: no compiler on this machine" in md
    targets = section(md, "Targets")
    for target in report.TARGETS[part].values():
        assert row(targets, target.what)[1:] == ["—", target.wanted, "not available"]
    total = sum(len(p) for p in report.TARGETS.values())
    assert f"{len(report.TARGETS[part])} not measured." in targets
    assert f"of {total} targets" in targets


def test_no_results_at_all(tmp_path: Path) -> None:
    md = report.report(report.Run(tmp_path / "empty", tmp_path / "no-criterion"))
    assert md.count("not available:") == 6
    assert "0 of 18 targets met in this run, 0 missed, 18 not measured." in md
