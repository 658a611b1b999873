"""The page bench's JSON (`make bench BENCH_ARGS="--json out.json"`) as a Markdown table, for
docs/benchmarks.md:  python -m tests.bench.report out.json"""

import json
import sys
from pathlib import Path


def ms(value) -> str:
    return "" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def kb(value) -> str:
    return "" if value is None else f"{value / 1024:,.0f} KB"


def main(path: str) -> None:
    data = json.loads(Path(path).read_text())
    print("| case | cold ms | warm ms | SQL ms | HTTP/SQL | sent | plan |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in data["cases"]:
        if r.get("status") == "not built":
            print(f"| {r['name']} | not built | | | | | |")
        elif r["kind"] == "export" and "rows" in r:
            extra = f"{r['rows']:,} rows, {r['rows_per_s']:,} rows/s, peak RSS {r['peak_rss_mb']} MB"
            print(f"| {r['name']} | {ms(r['cold_ms'])} | | | | {kb(r['wire_bytes'])} | {extra} |")
        elif "warm_ms" not in r:
            print(f"| {r['name']} | HTTP {r.get('status')} | | | | | |")
        else:
            plan = "**SEQ SCAN " + ", ".join(r["seq_scans"]) + "**" if r.get("seq_scans") else ""
            plan = plan or ("index" if "plan" in r else "")
            sent = kb(r["wire_bytes"]) + (f" ({r['encoding']})" if r.get("encoding") else "")
            ratio = f"{r['ratio']:,.0f}" if "ratio" in r else ""
            cold = r.get("cold_ms", r.get("first_ms"))
            print(
                f"| {r['name']} | {ms(cold)} | {ms(r['warm_ms'])} | {ms(r.get('sql_ms'))} | {ratio} | {sent} | {plan} |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
