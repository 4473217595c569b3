"""Plots of a results file: records/s and peak RSS against the number of records, per competitor.

``python -m bench.plot [--results bench/results/results.json] [--out docs/benchmarks]`` writes
``throughput.png`` and ``memory.png`` (the NDJSON scenario: no latency, one page at a time).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "operator": "RegionHallandApiToStorageOperator",
    "loop_orjson": "httpx + orjson loop (hand-tuned)",
    "loop_stdlib": "httpx + stdlib json loop",
    "httpoperator": "HttpOperator + pagination_function",
    "dlt": "dlt rest_api -> filesystem jsonl",
}


def series(rows: list[dict[str, Any]], field: str) -> dict[str, tuple[list[int], list[float]]]:
    out: dict[str, tuple[list[int], list[float]]] = {}
    for row in sorted(rows, key=lambda r: r["total"]):
        if row["scenario"] != "ndjson" or row[field] is None:
            continue
        xs, ys = out.setdefault(row["competitor"], ([], []))
        xs.append(row["total"])
        ys.append(row[field])
    return out


def plot(rows: list[dict[str, Any]], field: str, ylabel: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    for name, (xs, ys) in series(rows, field).items():
        ax.plot(xs, ys, marker="o", linewidth=2 if name == "operator" else 1.2, label=LABELS.get(name, name))
    ax.set_xscale("log")
    ax.set_xlabel("records pulled (pages of 1,000)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "results.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    args = parser.parse_args()
    rows = json.loads(args.results.read_text())["rows"]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(
        rows,
        "records_per_s",
        "records per second (median)",
        "Throughput, NDJSON to local disk",
        args.out / "throughput.png",
    )
    plot(
        rows,
        "peak_rss_mb",
        "peak RSS of the process, MB",
        "Peak memory, NDJSON to local disk",
        args.out / "memory.png",
    )
    print(f"wrote {args.out / 'throughput.png'} and {args.out / 'memory.png'}")


if __name__ == "__main__":
    main()
