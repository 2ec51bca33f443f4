#!/usr/bin/env python3
"""Issue 13's bar: one `pressbox run` against ../shared/hostile/hostile.py (feeds poison2, quad,
featsurr, hang) with the default limits.

Reports the run's wall time, peak RSS summed over its process tree (sampled; shared pages count
once per process, so this overstates), which good pages loaded, which of the 11 poison pages have
a fetch_errors row (fatal, or a note on a page that loaded), and any process of the run still alive
10 s after it ended. Figures, not pass/fail (the tests check the same cases at small scale).
Usage: hostile_run.py [--timeout 900]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
HOSTILE = ROOT.parent / "shared" / "hostile" / "hostile.py"
FEEDS = ("poison2", "quad", "featsurr", "hang")
GOOD = [f"/ok/g{i}" for i in range(6)] + ["/ok/q", "/ok/fs1", "/ok/fs2", "/ok/fs3", "/ok/h0", "/ok/h1", "/ok/h2"]
POISON = ["/surrogate", "/deepjson?n=100000", "/bigbody?chars=1200000", "/redir-bomb?mb=1024",
          "/redir-endless?secs=100", "/gzip2?mb=1024", "/header-trickle?secs=100", "/infinite-100?secs=100",
          "/deflate-empty-blocks?secs=100", "/gzip-empty-then-garbage?secs=100", "/redir-trickle?secs=100"]
MARK = "PBX_HOSTILE_BENCH"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    out, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def _marked(value: str) -> dict[int, str]:
    """Live processes whose environment carries MARK=value."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (f"{MARK}={value}".encode() in (entry / "environ").read_bytes().split(b"\0")
                    and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    if not HOSTILE.is_file():
        raise SystemExit(f"no hostile server at {HOSTILE}")
    from tasks import load

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    with tempfile.TemporaryDirectory(prefix="pressbox-hostile-") as tmp:
        work = Path(tmp)
        server = subprocess.Popen([sys.executable, str(HOSTILE), "127.0.0.1", str(port)], cwd=HOSTILE.parent,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            feeds = work / "feeds.toml"
            feeds.write_text("\n".join(f'[[feeds]]\nid = "{f}"\nurl = "{base}/feed/{f}"\nname = "{f}"\n'
                                       for f in FEEDS))
            db = work / "w.duckdb"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRESSBOX_"))}
            env.update(PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                       PREFECT_LOGGING_LEVEL="WARNING", PRESSBOX_ALLOW_PRIVATE_HOSTS="127.0.0.1",
                       PRESSBOX_HOME=str(work / "home"), **{MARK: tag})
            start = time.monotonic()
            run = subprocess.Popen([str(BIN / "pressbox"), "run", "--feeds", str(feeds), "--db", str(db)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
            peak_sum = peak_one = 0
            while run.poll() is None and time.monotonic() - start < args.timeout:
                sizes = [_rss_kib(p) for p in _tree(run.pid)]
                peak_sum, peak_one = max(peak_sum, sum(sizes)), max(peak_one, max(sizes, default=0))
                time.sleep(0.25)
            if run.poll() is None:
                run.kill()
            run.wait()
            wall = time.monotonic() - start
            out = run.stdout.read() if run.stdout else ""
            time.sleep(10)
            left = _marked(tag)
            for pid in left:  # never leave them behind, whatever the figure says
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
            loaded = {u.removeprefix(base) for (u,) in load.query(db, "SELECT url FROM articles")[1]}
            rows = load.query(db, "SELECT url, stage, error_type, fatal FROM fetch_errors ORDER BY url")[1]
            [(status,)] = load.query(db, "SELECT status FROM runs")[1]
        finally:
            server.kill()
            server.wait()
    recorded = {u.removeprefix(base): (stage, kind, fatal) for u, stage, kind, fatal in rows}
    result = {
        "exit_code": run.returncode, "status": status, "wall_s": round(wall, 1),
        "peak_rss_sum_mib": round(peak_sum / 1024), "peak_rss_one_process_mib": round(peak_one / 1024),
        "good_loaded": f"{len(set(GOOD) & loaded)}/{len(GOOD)}", "good_missing": sorted(set(GOOD) - loaded),
        "poison_with_row": f"{sum(p in recorded for p in POISON)}/{len(POISON)}",
        "poison_rows": {p: recorded.get(p) for p in POISON}, "processes_left_after_10s": left,
        "load_avg": os.getloadavg()[0], "summary": out.strip().splitlines()[:3],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
