"""Turn the results of one `make bench` run into target/bench-report.md.

Usage: python3 benches/report.py <results-dir> <report.md>

Each part of the run wrote JSON into the results directory (criterion writes its own tree
under target/criterion/rust); a part that could not run wrote `<part>.unavailable` with the
reason. The report has one section per part, each written by one function below: the
measured table with its ratios, every ratio checked against its target, and the facts of
this run a reader needs to judge it (counts, versions, load). The method behind each figure
is in BENCHMARKING.md, not repeated here.
Standard library only: it runs with the system python3, before or without the bench venv.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# -- formatting ----------------------------------------------------------------------------


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def fmt_x(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def fmt_bytes(b: float | None) -> str:
    return "—" if b is None else f"{b:.0f} B"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def table(head: tuple[str, ...], align: str, rows: list[tuple[str, ...]]) -> list[str]:
    """A markdown table; `align` has one letter per column: l(eft) or r(ight)."""
    rule = "|".join("---:" if a == "r" else "---" for a in align)
    return [
        "| " + " | ".join(head) + " |",
        f"|{rule}|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


# -- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    what: str
    wanted: str
    met: Callable[[float], bool]
    fmt: Callable[[float | None], str] = fmt_x


# Every target, by the part of the run that measures it. A part that could not run lists
# its targets as not available, so the summary always has every row.
TARGETS: dict[str, dict[str, Target]] = {
    "rust": {
        "validate": Target(
            "Rust `validate` vs jsonwebtoken `decode`", "≥ 4x faster", lambda r: r >= 4
        ),
        "verify": Target("Rust `verify` vs the HMAC floor", "≤ 1.6x the floor", lambda r: r <= 1.6),
        "login": Target(
            "Rust `login` vs 2 × jsonwebtoken `encode`", "≥ 2x faster", lambda r: r >= 2
        ),
    },
    "scale": {
        "size": Target("validate at 1e6 sessions vs 1e3", "≤ 1.2x", lambda r: r <= 1.2),
        "threads": Target("2 threads vs 1 (CPU-normalized)", "≥ 1.7x", lambda r: r >= 1.7),
        "memory": Target(
            "resident memory per live session at 1e6", "≤ 200 B", lambda b: b <= 200, fmt_bytes
        ),
    },
    "c": {
        "validate": Target(
            "C `keyfob_engine_validate` vs Rust `validate`", "≤ 1.2x", lambda r: r <= 1.2
        ),
        "validate_into": Target(
            "C `keyfob_engine_validate_into` vs Rust", "≤ 1.2x", lambda r: r <= 1.2
        ),
    },
    "python": {
        "simplejwt": Target(
            "Python `Engine.validate` vs simplejwt `AccessToken(token)`",
            "≥ 40x faster",
            lambda r: r >= 40,
        ),
        "pyjwt": Target(
            "Python `Engine.validate` vs PyJWT `jwt.decode`", "≥ 30x faster", lambda r: r >= 30
        ),
    },
    "stores": {
        "validate": Target(
            "`validate` on Redis with the near cache vs the memory store",
            "≤ 2x",
            lambda r: r <= 2,
        ),
        "commands": Target(
            "Redis commands per validate with the near cache",
            "≤ 0.05",
            lambda c: c <= 0.05,
            lambda c: "—" if c is None else f"{c:.5f}",
        ),
        **{
            f"visibility_{stat}_{load}": Target(
                f"revocation refused by another process, {what}, {stat}",
                wanted,
                lambda v, bound=bound: v <= bound,
                lambda v: "—" if v is None else f"{v:.2f} ms",
            )
            for load, what in (("idle", "idle"), ("loaded", "under validate load"))
            for stat, wanted, bound in (("p99", "≤ 10 ms", 10), ("max", "≤ 100 ms", 100))
        },
    },
    "drf": {
        "stateless": Target("DRF authenticate(), stateless user", "≥ 10x", lambda r: r >= 10),
        "db_user": Target("DRF authenticate(), database user", "> 1x", lambda r: r > 1),
    },
}


class Verdicts:
    """Each target checked in this run, in the order the sections checked them."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def check(self, part: str, key: str, value: float | None) -> str:
        """Record `value` against the target; returns the verdict for the section's table."""
        target = TARGETS[part][key]
        verdict = "n/a" if value is None else ("met" if target.met(value) else "**missed**")
        self.rows.append((target.what, target.fmt(value), target.wanted, verdict))
        return verdict

    def not_available(self, part: str) -> None:
        for target in TARGETS[part].values():
            self.rows.append((target.what, "—", target.wanted, "not available"))


# -- the results of one run ----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    results: Path
    criterion: Path = ROOT / "target" / "criterion" / "rust"

    def json(self, name: str) -> dict[str, Any] | None:
        return load_json(self.results / name)

    def text(self, name: str) -> str | None:
        path = self.results / name
        return path.read_text().strip() if path.exists() else None

    def unavailable(self, part: str) -> str | None:
        return self.text(f"{part}.unavailable")

    def criterion_medians(self) -> dict[str, float]:
        """Median ns per iteration of each bench in criterion's `rust` group."""
        out: dict[str, float] = {}
        if self.criterion.is_dir():
            for bench in sorted(self.criterion.iterdir()):
                est = load_json(bench / "new" / "estimates.json")
                if est:
                    out[bench.name] = est["median"]["point_estimate"]
        return out


def load_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file; None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def not_available(reason: str | None, fallback: str) -> list[str]:
    return [f"not available: {reason or fallback}", ""]


# -- sections, in the order of the report --------------------------------------------------


def header() -> list[str]:
    """Where and when the run happened: commit, CPU, time, load."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    return [
        "# keyfob benchmark report",
        "",
        f"- Commit: `{commit}`",
        f"- CPU: {cpu} ({os.cpu_count()} logical CPUs), {platform.system()} {platform.release()}",
        f"- Run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}, load average {load}",
        "- Times: medians of thread CPU time per call, unless a table says wall clock.",
        "  Ratios compare figures measured in this same run (see BENCHMARKING.md).",
        "",
    ]


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, check=False, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def rust_section(run: Run, verdicts: Verdicts) -> list[str]:
    """criterion: keyfob's validate, verify, login and refresh against jsonwebtoken and the
    bare HMAC, with callgrind's instructions per call beside them."""
    md = ["## Rust (criterion)", ""]
    crit = run.criterion_medians()
    reason = run.unavailable("rust")
    if reason or not crit:
        verdicts.not_available("rust")
        return md + not_available(reason, "no criterion results")
    cg = dict(run.json("callgrind.json") or {})
    if "jwt_encode" in cg:
        cg["jwt_encode_x2"] = 2 * cg["jwt_encode"]
    encode = crit.get("jsonwebtoken_encode")
    two_encodes = None if encode is None else 2 * encode
    validate, verify = crit.get("keyfob_validate"), crit.get("keyfob_verify")
    login, refresh = crit.get("keyfob_login"), crit.get("keyfob_refresh")
    decode, hmac = crit.get("jsonwebtoken_decode"), crit.get("ring_hmac_sign")
    # (keyfob call, its time, its callgrind name, peer, peer time, peer's callgrind name,
    #  ratio, target key or None)
    comparisons = [
        ("`validate` (session-bound, sliding touch)", validate, "validate",
         "jsonwebtoken `decode`", decode, "jwt_decode", ratio(decode, validate), "validate"),
        ("`verify` (signature + claims + session read)", verify, "verify",
         "ring `hmac::sign` (floor)", hmac, "hmac_sign", ratio(verify, hmac), "verify"),
        ("`login` (session + access + refresh)", login, "login",
         "2 × jsonwebtoken `encode`", two_encodes, "jwt_encode_x2", ratio(two_encodes, login),
         "login"),
        ("`refresh` (rotation, chained)", refresh, "refresh",
         "2 × jsonwebtoken `encode`", two_encodes, "jwt_encode_x2", ratio(two_encodes, refresh),
         None),
    ]  # fmt: skip
    steady = run.json("login.json") or {}
    if steady:
        steady_encode = steady.get("encode_ns")
        comparisons.append(
            (f"`login`, store in steady state ({steady.get('live_sessions', 0):,} live sessions,"
             " interleaved)", steady.get("login_ns"), "",
             "2 × jsonwebtoken `encode`", None if steady_encode is None else 2 * steady_encode,
             "", steady.get("ratio"), None)
        )  # fmt: skip
    rows = []
    for name, ours, cg_ours, peer, theirs, cg_peer, r, key in comparisons:
        verdict = f" {verdicts.check('rust', key, r)}" if key else ""
        wanted = TARGETS["rust"][key].wanted if key else "— (no target)"
        inst = f"{cg[cg_ours]:,} / {cg[cg_peer]:,}" if cg_ours in cg and cg_peer in cg else "—"
        rows.append((name, fmt_ns(ours), peer, fmt_ns(theirs), fmt_x(r) + verdict, wanted, inst))
    md += table(
        ("keyfob", "median", "peer", "peer median", "ratio", "target",
         "instructions keyfob / peer"),
        "lrlrrlr",
        rows,
    )  # fmt: skip
    md += [
        "",
        "Ratio: peer / keyfob (higher is better), except `verify`: keyfob / floor (lower is",
        "better). Instructions: callgrind, per call. `login` logs in to a store that grows by",
        "millions of sessions (each login also pays for memory the OS hands over for the first",
        "time); the steady-state row, from `benches/login.rs`, logs in to a store that keeps",
        "its size, in rounds interleaved with the peer (median of the rounds' ratios).",
        "",
    ]
    return md


def scale_section(run: Run, verdicts: Verdicts) -> list[str]:
    """validate with 1e3, 1e5 and 1e6 live sessions, two threads against one, and resident
    memory per session."""
    md = ["## Scale", ""]
    scale = run.json("scale.json")
    reason = run.unavailable("scale")
    if reason or not scale:
        verdicts.not_available("scale")
        return md + not_available(reason, "no scale results")
    latency = scale["validate_ns"]
    small, big = latency.get("1000"), latency.get("1000000")
    # The bench's median of per-round ratios when it gives one (robust to slow spells).
    size_ratio = scale.get("ratio_largest_smallest") or ratio(big, small)
    threads = scale["threads"]
    cpu_ratio = threads.get("cpu_ratio")
    rows = [
        ("validate, 1e3 live sessions", fmt_ns(small), "", ""),
        ("validate, 1e5 live sessions", fmt_ns(latency.get("100000")), "", ""),
        ("validate, 1e6 live sessions", fmt_ns(big), "", ""),
        ("1e6 / 1e3", fmt_x(size_ratio), TARGETS["scale"]["size"].wanted,
         verdicts.check("scale", "size", size_ratio)),
        ("throughput, 2 threads / 1 (CPU-normalized)", fmt_x(cpu_ratio),
         TARGETS["scale"]["threads"].wanted, verdicts.check("scale", "threads", cpu_ratio)),
        (f"throughput, 2 threads / 1 (wall clock, load {threads.get('loadavg')})",
         fmt_x(threads.get("wall_ratio")), "(informative)", ""),
    ]  # fmt: skip
    memory = (scale.get("memory") or {}).get("bytes_per_session")
    rows.append(
        (
            "resident memory per live session, 1e6 sessions",
            fmt_bytes(memory),
            TARGETS["scale"]["memory"].wanted,
            verdicts.check("scale", "memory", memory),
        )
    )
    md += table(("measure", "value", "target", ""), "lrll", rows)
    md += ["", f"Tokens per batch: {scale['pool_tokens']:,}. Threads: on the 1e5 store.", ""]
    return md


def stores_section(run: Run, verdicts: Verdicts) -> list[str]:
    """The memory store against the Redis store, with its near cache and without (wall
    clock): latency and calls per second, keyfob on Redis against a bare round trip, Redis
    commands per validate, and how soon another process refuses a revoked session."""
    md = ["## Stores: memory vs Redis", ""]
    stores = run.json("stores.json")
    reason = run.unavailable("stores")
    if reason or not stores or "redis" not in stores:
        verdicts.not_available("stores")
        return md + not_available(reason, "no store results")
    memory, redis = stores["memory"], stores["redis"]
    near = stores.get("redis_near")
    rows = []
    for op in ("validate", "refresh"):
        m, r = memory[op], redis[op]
        n = near[op] if near else {}
        for key, what in (("median_ns", "median latency"), ("p99_ns", "99th percentile")):
            rows.append(
                (f"`{op}`", what, fmt_ns(m[key]), fmt_ns(n.get(key)), fmt_ns(r[key]),
                 fmt_x(ratio(n.get(key), m[key])), fmt_x(ratio(r[key], m[key])))
            )  # fmt: skip
        for key, what in (("one_thread_per_s", "1 thread"), ("two_threads_per_s", "2 threads")):
            rows.append(
                (f"`{op}`", f"calls/s, {what}", f"{m[key]:,.0f}",
                 f"{n[key]:,.0f}" if key in n else "—", f"{r[key]:,.0f}",
                 fmt_x(ratio(m[key], n.get(key))), fmt_x(ratio(m[key], r[key])))
            )  # fmt: skip
    md += table(
        ("operation", "measure", "memory store", "Redis, near cache", "Redis, no cache",
         "near cache: x slower", "no cache: x slower"),
        "llrrrrr",
        rows,
    )  # fmt: skip
    ping = (stores.get("redis_ping") or {}).get("median_ns")
    if ping:
        md += [""]
        md += table(
            ("on Redis, no cache", "median latency", "bare round trip (`PING`)",
             "keyfob / round trip"),
            "lrrr",
            [
                (f"`{op}`", fmt_ns(redis[op]["median_ns"]), fmt_ns(ping),
                 fmt_x(ratio(redis[op]["median_ns"], ping)))
                for op in ("validate", "refresh")
            ],
        )  # fmt: skip
    md += [""] + near_cache_rows(stores, verdicts, near)
    version = run.text("stores_redis_version.txt") or "?"
    md += [
        "",
        f"Wall clock. Redis {version} on 127.0.0.1, sharing this machine's cores. "
        f"{stores['sessions']:,} live sessions per store. Latency: {stores['latency_calls']:,} "
        f"single calls per operation. Throughput: {stores['throughput_ms']} ms runs. "
        f"Load average at the end: {stores['loadavg']}.",
        "",
    ]
    return md


def near_cache_rows(stores: dict[str, Any], verdicts: Verdicts, near: Any) -> list[str]:
    """The near cache's targets: validate against the memory store, commands per validate,
    revocation visibility (idle and under load), each beside the same figure without it."""
    memory_ns = stores["memory"]["validate"]["median_ns"]
    near_ns = near["validate"]["median_ns"] if near else None
    cpv = stores.get("commands_per_validate") or {}
    vis = stores.get("visibility") or {}

    def cmds(name: str, key: str) -> float | None:
        return (cpv.get(name) or {}).get(key)

    def seen(name: str, load: str, key: str) -> float | None:
        v = ((vis.get(name) or {}).get(load) or {}).get(key)
        return None if v is None else v / 1e6

    def ms(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f} ms"

    def num(v: float | None) -> str:
        return "—" if v is None else f"{v:.5f}"

    r = ratio(near_ns, memory_ns)
    rows = [
        ("`validate`, warm, median: Redis with near cache / memory", fmt_x(r),
         fmt_x(ratio(stores["redis"]["validate"]["median_ns"], memory_ns)),
         TARGETS["stores"]["validate"].wanted, verdicts.check("stores", "validate", r)),
    ]  # fmt: skip
    c = cmds("near", "commands")
    rows.append(
        ("Redis commands per validate, steady state (scripts' own included)", num(c),
         num(cmds("direct", "commands")), TARGETS["stores"]["commands"].wanted,
         verdicts.check("stores", "commands", c))
    )  # fmt: skip
    rows.append(
        ("Redis round trips per validate, steady state", num(cmds("near", "round_trips")),
         num(cmds("direct", "round_trips")), "(informative)", "")
    )  # fmt: skip
    for load, what in (("idle", "idle"), ("loaded", "both processes validating")):
        trials = ((vis.get("near") or {}).get(load) or {}).get("trials", 0)
        for key, name in (("p99_ns", "p99"), ("max_ns", "max")):
            v = seen("near", load, key)
            target = f"visibility_{name}_{load}"
            rows.append(
                (f"revocation refused by another process, {what}, {name} ({trials:,} trials)",
                 ms(v), ms(seen("direct", load, key)), TARGETS["stores"][target].wanted,
                 verdicts.check("stores", target, v))
            )  # fmt: skip
        rows.append(
            (f"revocation refused by another process, {what}, median",
             ms(seen("near", load, "median_ns")), ms(seen("direct", load, "median_ns")),
             "(informative)", "")
        )  # fmt: skip
    return table(("near cache", "with it", "without it", "target", ""), "lrrll", rows)


def c_section(run: Run, verdicts: Verdicts) -> list[str]:
    """The C ABI against the same call in Rust, in the same loop and clock, run alternately."""
    md = ["## C ABI", ""]
    c = run.json("c.json")
    reason = run.unavailable("c")
    if reason or not c:
        verdicts.not_available("c")
        return md + not_available(reason, "no C results")
    rust_validate, rust_into = c.get("rust_validate_ns"), c.get("rust_validate_into_ns")
    # The median of the ratios of each C run to the Rust run right after it, when given.
    r = c.get("ratio") or ratio(c["validate_ns"], rust_validate)
    r_into = c.get("ratio_into") or ratio(c["validate_into_ns"], rust_into)
    cg = run.json("callgrind.json") or {}
    c_cg = run.json("c_callgrind.json") or {}
    inst = (
        f"{c_cg['c_validate']:,} / {cg['validate']:,}"
        if "c_validate" in c_cg and "validate" in cg
        else "—"
    )
    rows = [
        ("`keyfob_engine_validate` (status only) vs `Engine::validate`",
         fmt_ns(c["validate_ns"]), fmt_ns(rust_validate),
         f"{fmt_x(r)} {verdicts.check('c', 'validate', r)}",
         TARGETS["c"]["validate"].wanted, inst),
        ("`keyfob_engine_validate_into` (claims JSON into a caller buffer) vs "
         "`Engine::validate` + copy of `to_json()`",
         fmt_ns(c["validate_into_ns"]), fmt_ns(rust_into),
         f"{fmt_x(r_into)} {verdicts.check('c', 'validate_into', r_into)}",
         TARGETS["c"]["validate_into"].wanted, ""),
    ]  # fmt: skip
    md += table(
        ("C call", "C median", "same in Rust", "C / Rust", "target", "instructions C / Rust"),
        "lrrrlr",
        rows,
    )
    md += ["", f"C and Rust runs, alternating: {c.get('runs', '?')} each.", ""]
    return md


def python_section(run: Run, verdicts: Verdicts) -> list[str]:
    """keyfob.Engine against PyJWT and simplejwt, in one process, on the same token."""
    md = ["## Python", ""]
    py = run.json("python.json")
    reason = run.unavailable("python")
    if reason or not py:
        verdicts.not_available("python")
        return md + not_available(reason, "no Python results")
    validate, login = py["keyfob_validate"], py["keyfob_login"]
    comparisons = [
        ("`Engine.validate(access)`", validate,
         "simplejwt `AccessToken(token)`", py["simplejwt_access_token"], "simplejwt"),
        ("`Engine.validate(access)`", validate,
         "PyJWT `jwt.decode`", py["pyjwt_decode"], "pyjwt"),
        ("`Engine.login(user)`", login,
         "2 × PyJWT `jwt.encode`", 2 * py["pyjwt_encode"], None),
        ("`Engine.login(user)`", login,
         "simplejwt `RefreshToken.for_user(user)` + both `str()`",
         py["simplejwt_for_user_pair"], None),
        ("`Engine.refresh(refresh)` (rotation)", py["keyfob_refresh"],
         "simplejwt refresh with rotation (serializer steps)",
         py["simplejwt_refresh_rotate"], None),
    ]  # fmt: skip
    rows = []
    for name, ours, peer, theirs, key in comparisons:
        r = ratio(theirs, ours)
        verdict = f" {verdicts.check('python', key, r)}" if key else ""
        wanted = TARGETS["python"][key].wanted if key else "—"
        rows.append((name, fmt_ns(ours), peer, fmt_ns(theirs), fmt_x(r) + verdict, wanted))
    md += table(
        ("keyfob", "median", "peer", "peer median", "peer / keyfob", "target"), "lrlrrl", rows
    )
    md += ["", f"Python {py.get('python', '?')}, PyJWT {py.get('pyjwt', '?')}.", ""]
    return md


def drf_section(run: Run, verdicts: Verdicts) -> list[str]:
    """keyfob.drf against simplejwt: time inside authenticate(), then HTTP requests per
    second of examples/django (wall clock, no target)."""
    md = ["## Django REST framework", ""]
    drf = run.json("drf.json") or run.json("drf_auth.json")
    reason = run.unavailable("drf")
    if reason or not drf:
        verdicts.not_available("drf")
        return md + not_available(reason, "no DRF results")
    stateless = ratio(drf["simplejwt_stateless"], drf["keyfob_stateless"])
    db_user = ratio(drf["simplejwt_db_user"], drf["keyfob_db_user"])
    rows = [
        ("stateless user (`JWTStatelessUserAuthentication`)",
         fmt_ns(drf["keyfob_stateless"]), fmt_ns(drf["simplejwt_stateless"]),
         f"{fmt_x(stateless)} {verdicts.check('drf', 'stateless', stateless)}",
         TARGETS["drf"]["stateless"].wanted),
        ("database user (`JWTAuthentication`, SQLite)",
         fmt_ns(drf["keyfob_db_user"]), fmt_ns(drf["simplejwt_db_user"]),
         f"{fmt_x(db_user)} {verdicts.check('drf', 'db_user', db_user)}",
         TARGETS["drf"]["db_user"].wanted),
    ]  # fmt: skip
    md += table(
        ("inside `authenticate()`", "keyfob.drf", "simplejwt", "simplejwt / keyfob", "target"),
        "lrrrl",
        rows,
    )
    http = drf.get("http") or {}
    if http.get("keyfob_rps") and http.get("simplejwt_rps"):
        md += [""]
        md += table(
            ("`GET /api/hello/` (examples/django)", "keyfob.drf", "simplejwt",
             "keyfob / simplejwt"),
            "lrrr",
            [("requests/second (wall clock)", f"{http['keyfob_rps']:.0f}",
              f"{http['simplejwt_rps']:.0f}",
              fmt_x(ratio(http["keyfob_rps"], http["simplejwt_rps"])))],
        )  # fmt: skip
        md += ["", f"{http['server']}, {http['client']}, {http['seconds']} s per run."]
    else:
        md += ["", "HTTP load: not available (see target/bench-results/drf.log)."]
    return md + [""]


def targets_section(verdicts: Verdicts) -> list[str]:
    """Every target of the run in one table, and how many were met."""
    met = sum(1 for row in verdicts.rows if row[3] == "met")
    missed = sum(1 for row in verdicts.rows if "missed" in row[3])
    other = len(verdicts.rows) - met - missed
    summary = f"{met} of {len(verdicts.rows)} targets met in this run, {missed} missed"
    return [
        "## Targets",
        "",
        *table(("target", "measured", "wanted", ""), "lrll", verdicts.rows),
        "",
        summary + (f", {other} not measured." if other else "."),
        "",
    ]


SECTIONS = (rust_section, scale_section, stores_section, c_section, python_section, drf_section)


def report(run: Run) -> str:
    verdicts = Verdicts()
    md = header()
    for section in SECTIONS:
        md += section(run, verdicts)
    md += targets_section(verdicts)
    return "\n".join(md)


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} <results-dir> <report.md>")
    results, out = Path(argv[1]), Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(Run(results)))


if __name__ == "__main__":
    main(sys.argv)
