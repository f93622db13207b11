"""Merge the alternating C and Rust validate runs into c.json (medians of each figure).

Usage: python3 benches/c/merge_runs.py <results-dir>
"""

import json
import statistics
import sys
from pathlib import Path


def runs(path: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    out = Path(sys.argv[1])
    c, rust = runs(out / "c_runs.jsonl"), runs(out / "rust_runs.jsonl")

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    merged = {
        "validate_ns": med(c, "validate_ns"),
        "validate_into_ns": med(c, "validate_into_ns"),
        "rust_validate_ns": med(rust, "validate_ns"),
        "rust_validate_into_ns": med(rust, "validate_into_ns"),
        # Each C run is paired with the Rust run right after it: the median of those
        # ratios holds even when the machine's speed drifts for seconds at a time.
        "ratio": statistics.median(
            a["validate_ns"] / b["validate_ns"] for a, b in zip(c, rust, strict=True)
        ),
        "ratio_into": statistics.median(
            a["validate_into_ns"] / b["validate_into_ns"] for a, b in zip(c, rust, strict=True)
        ),
        "runs": len(c),
    }
    (out / "c.json").write_text(json.dumps(merged) + "\n")


if __name__ == "__main__":
    main()
