#!/usr/bin/env python3
"""A small run's cost: `pressbox run` over the demo site (a few dozen pages) into a fresh warehouse.

Small runs are the common case of a scheduled ingest (a quarter hour's new items). Reports, per
repetition, the wall time of the whole command (Prefect's start-up included), the CPU seconds of
its process tree (user + system, each process as last sampled: steadier than wall time on a busy
machine), and the peak RSS summed over the tree (sampled).
Figures, not pass/fail. Usage: small_run.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"

from hostile_run import _tree  # noqa: E402 - the process tree of a run, read from /proc

from pressbox import sample_site  # noqa: E402
from pressbox.localsite import LocalSite  # noqa: E402


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total / 1024


def _cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0


def one_run(feeds: Path, work: Path, env: dict[str, str]) -> dict:
    db = work / f"w{time.monotonic_ns()}.duckdb"
    start = time.monotonic()
    proc = subprocess.Popen([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db", str(db)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    peak, cpu = 0.0, {}
    while proc.poll() is None:
        tree = _tree(proc.pid)
        peak = max(peak, _rss_mib(tree))
        cpu.update({pid: max(cpu.get(pid, 0.0), _cpu_s(pid)) for pid in tree})
        time.sleep(0.2)
    wall = time.monotonic() - start
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"pressbox run exited {proc.returncode}:\n{out[-3000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(sum(cpu.values()), 1), "peak_rss_mib": round(peak),
            "summary": out.strip().splitlines()[:2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pressbox-small-") as tmp, LocalSite(sample_site.routes()) as site:
        work = Path(tmp)
        feeds = work / "feeds.toml"
        feeds.write_text(sample_site.feeds_toml(site.base_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRESSBOX_"))}
        env.update(PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                   PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
                   PRESSBOX_PER_HOST_INTERVAL="0", PRESSBOX_HOME=str(work / "home"))
        runs = [one_run(feeds, work, env) for _ in range(args.repeat)]
    walls = sorted(r["wall_s"] for r in runs)
    cpus = sorted(r["cpu_s"] for r in runs)
    result = {"pages": len(sample_site.MATCHES), "runs": runs, "median_wall_s": walls[len(walls) // 2],
              "median_cpu_s": cpus[len(cpus) // 2],
              "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "load_avg": os.getloadavg()[0]}
    for r in runs:
        print(f"wall {r['wall_s']:7.2f} s   CPU {r['cpu_s']:6.1f} s   peak RSS {r['peak_rss_mib']:6d} MiB   "
              f"{r['summary'][:1]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
