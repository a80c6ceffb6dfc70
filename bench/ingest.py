"""Ingest benchmark: parse-only baseline against cold and warm `newsgraph ingest` runs.

    python -m bench.ingest [--files 20000] [--keep]

Generates N synthetic articles (`newsgraph.demo`) into a temporary folder and measures, in one
run: (a) the baseline of the issue, a single-process read + front-matter split + libyaml load
(no validation, no database), with (a') our full parser beside it for comparison; (b) a cold
`newsgraph ingest` subprocess into a fresh database; (c) a warm re-run with nothing changed.
The ratios (b)/(a) and (c)/(a) are the point: they say whether the parse pool and the store pay
for themselves and whether unchanged files are skipped without being parsed, independently of
how fast this machine is. Rendering Markdown bodies is part of (a') and (b); its own cost is
measured twice: per file (`render_body` over the bodies, best of 3 rounds) and as (b0), the same
cold ingest with rendering switched off in every process (a `sitecustomize` on PYTHONPATH, bench
only), so (b)/(b0) is what rendering costs a cold ingest. Peak RSS comes from `os.wait4` (exact,
per process); a cold run over N/4 files shows whether memory grows with the number of files.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsgraph.demo import write_demo_content

DESCRIPTION = "Parse-only baseline against cold and warm `newsgraph ingest` runs."
MB = 1024 * 1024
TARGET_COLD_RATIO = 1.2
TARGET_RENDERED_COLD_RATIO = 0.8  # issue 12: cold ingest with rendering against the baseline (a)
TARGET_WARM_RATIO = 10.0
TARGET_RSS_MB = 200.0
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Run:
    """One `newsgraph ingest` subprocess: wall time, peak RSS, and what it printed."""

    seconds: float
    max_rss: int  # bytes, the largest single process (wait4 reports the max, not a sum)
    tree_rss: int | None  # bytes, the whole process tree (parse workers too), sampled
    output: str
    returncode: int

    def rate(self, files: int) -> float:
        return files / self.seconds


def parse_only_rate(root: Path) -> tuple[float, int]:
    """The baseline as the issue defines it: read + split + libyaml load, one process, no DB."""
    import yaml

    from newsgraph.ingest.frontmatter import split_front_matter

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    files = sorted(p for p in root.rglob("*.md") if p.is_file())
    failures = 0
    start = time.perf_counter()
    for path in files:
        try:
            sections = split_front_matter(path.read_bytes().decode("utf-8-sig"))
            yaml.load(sections.front_matter if sections else "", Loader=loader)
        except (ValueError, yaml.YAMLError):
            failures += 1
    return len(files) / (time.perf_counter() - start), failures


def full_parse_rate(root: Path) -> float:
    """Our parser with every FORMAT.md check (`decode_article`), for comparison with (a)."""
    from newsgraph.ingest.errors import IngestError
    from newsgraph.ingest.parse import decode_article

    files = sorted(p for p in root.rglob("*.md") if p.is_file())
    start = time.perf_counter()
    for path in files:
        with contextlib.suppress(IngestError):
            decode_article(path.read_bytes(), path=path.relative_to(root).as_posix())
    return len(files) / (time.perf_counter() - start)


def render_cost(root: Path, rounds: int = 3) -> tuple[float, int]:
    """Microseconds per file that `render_body` takes over these files' bodies (best round)."""
    from newsgraph.ingest.frontmatter import normalise_newlines, split_front_matter
    from newsgraph.ingest.render import render_body

    bodies = []
    for path in sorted(p for p in root.rglob("*.md") if p.is_file()):
        sections = split_front_matter(normalise_newlines(path.read_text(encoding="utf-8-sig")))
        bodies.append(sections.body if sections else "")
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for body in bodies:
            render_body(body)
        best = min(best, time.perf_counter() - start)
    return best / len(bodies) * 1e6, sum(1 for body in bodies if body.strip())


NO_RENDERING = (
    '"""bench.ingest (b0): every process of this ingest renders no Markdown body."""\n'
    "import newsgraph.db.records as records\n"
    "import newsgraph.ingest.render as render\n"
    "render.render_body = lambda markdown: records.EMPTY_BODY\n"
)


def rendered_articles(db: Path) -> int:
    """How many articles of a benchmark database have a rendered body (0 proves (b0) is fair)."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM articles WHERE html != ''").fetchone()[0])
    finally:
        conn.close()


def newsgraph_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m newsgraph`."""
    script = Path(sys.executable).with_name("newsgraph")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "newsgraph"]


def run_ingest(
    content: Path,
    db: Path,
    *,
    cwd: Path,
    timeout: float,
    extra: Sequence[str] = (),
    python_path: Path | None = None,
) -> Run:
    """Run `newsgraph ingest` once and reap it with `os.wait4` to get its own peak RSS.

    It runs in `cwd` with `NEWSGRAPH_*` variables removed so that no settings file or
    environment of the caller changes what is measured. A timer kills it after `timeout`.
    """
    command = [*newsgraph_command(), "ingest", "--content", str(content), "--db", str(db), *extra]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSGRAPH_")}
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    with tempfile.TemporaryFile(dir=cwd) as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, proc.kill)
        sampler = TreeSampler(proc.pid)
        killer.start()
        sampler.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            sampler.stop()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    max_rss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Run(seconds, max_rss, sampler.peak, output, proc.returncode)


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants from /proc (Linux only).

    `wait4` gives the exact peak of the largest single process; a parse pool's workers add to
    the machine's memory use, so this approximates (every 0.2 s) the total as well. `peak`
    stays None where /proc is unavailable or the process ended before the first sample.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def start(self) -> None:
        if Path("/proc/self/statm").exists():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            total = sum(self._rss(pid) for pid in self._tree())
            self.peak = max(self.peak or 0, total)

    def _tree(self) -> set[int]:
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue  # exited while we looked
                # The command name (2nd field) may hold spaces; fields after ")" are fixed.
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree = {self.pid}
        grew = True
        while grew:
            found = {pid for pid, ppid in parents.items() if ppid in tree} - tree
            tree |= found
            grew = bool(found)
        return tree

    def _rss(self, pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
        except (OSError, IndexError, ValueError):
            return 0


def check_run(label: str, run: Run) -> None:
    if run.returncode != 0:
        print(f"{label}: newsgraph ingest exited {run.returncode}:\n{run.output[-2000:]}")
        raise SystemExit(1)


def summary_line(run: Run) -> str:
    lines = [line for line in run.output.splitlines() if line.startswith("ingest:")]
    return lines[-1] if lines else "(no summary line)"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def mb(size: int | None) -> str:
    return "n/a" if size is None else f"{size / MB:,.1f} MB"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=DESCRIPTION)
    parser.add_argument("--files", type=int, default=20_000, help="articles to generate (20000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--workers", type=int, help="passed to `newsgraph ingest --workers`")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per ingest run")
    args = parser.parse_args(argv)
    if args.files < 4:
        parser.error("--files must be at least 4")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    extra = [] if args.workers is None else ["--workers", str(args.workers)]
    work = Path(tempfile.mkdtemp(prefix="newsgraph-bench-"))
    try:
        report(work, args.files, args.seed, args.timeout, extra)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(work: Path, files: int, seed: int, timeout: float, extra: list[str]) -> None:
    content, quarter = work / "content", work / "content-quarter"
    start = time.perf_counter()
    paths = write_demo_content(content, count=files, seed=seed)
    generated = time.perf_counter() - start
    write_demo_content(quarter, count=files // 4, seed=seed)
    size = sum(path.stat().st_size for path in paths)
    print(f"{files:,} files, {size / MB:,.1f} MB, generated in {generated:.1f} s; {work}")

    base_rate, failures = parse_only_rate(content)
    print(f"(a) read + split + libyaml load: {base_rate:,.0f} files/s ({failures} failed)")
    parser_rate = full_parse_rate(content)
    print(f"(a') newsgraph's full parser (decode_article): {parser_rate:,.0f} files/s")
    render_us, with_body = render_cost(content)
    parse_us = 1e6 / parser_rate
    print(f"rendering: {render_us:,.1f} µs per file ({with_body:,} of {files:,} have a body), "
          f"{render_us / parse_us:.0%} of (a')'s {parse_us:,.0f} µs per file")  # fmt: skip
    small = run_ingest(quarter, work / "quarter.db", cwd=work, timeout=timeout, extra=extra)
    check_run("cold N/4", small)
    cold = run_ingest(content, work / "full.db", cwd=work, timeout=timeout, extra=extra)
    check_run("cold", cold)
    print(f"(b) cold: {summary_line(cold)}")
    warm = run_ingest(content, work / "full.db", cwd=work, timeout=timeout, extra=extra)
    check_run("warm", warm)
    print(f"(c) warm: {summary_line(warm)}")
    switch = work / "no-rendering"
    switch.mkdir()
    (switch / "sitecustomize.py").write_text(NO_RENDERING, encoding="utf-8")
    plain = run_ingest(
        content, work / "plain.db", cwd=work, timeout=timeout, extra=extra, python_path=switch
    )
    check_run("cold without rendering", plain)
    if rendered_articles(work / "plain.db") or not rendered_articles(work / "full.db"):
        print("(b0) rendering was not switched off (or never on): the comparison is void")
        raise SystemExit(1)
    print(f"(b0) cold, rendering off: {summary_line(plain)}")

    cold_ratio = cold.rate(files) / base_rate
    render_ratio = cold.rate(files) / plain.rate(files)
    warm_ratio = warm.rate(files) / base_rate
    peak_mb = cold.max_rss / MB
    rows = [
        ("(a) read+split+libyaml, 1 proc", f"{base_rate:,.0f} files/s", "baseline", ""),
        ("(a') full parser, 1 process", f"{parser_rate:,.0f} files/s", "for comparison", ""),
        ("rendering, per file", f"{render_us:,.1f} µs", f"{render_us / parse_us:.0%} of (a')", ""),
        (
            "(b) cold ingest",
            f"{cold.rate(files):,.0f} files/s",
            f"(b)/(a) = {cold_ratio:.2f}, target >= {TARGET_COLD_RATIO}",
            verdict(cold_ratio >= TARGET_COLD_RATIO),
        ),
        (
            "(b) cold ingest, with rendering",
            "(same run)",
            f"(b)/(a) = {cold_ratio:.2f}, target >= {TARGET_RENDERED_COLD_RATIO}",
            verdict(cold_ratio >= TARGET_RENDERED_COLD_RATIO),
        ),
        (
            "(b0) cold ingest, no rendering",
            f"{plain.rate(files):,.0f} files/s",
            f"(b)/(b0) = {render_ratio:.2f}: what rendering costs",
            "",
        ),
        (
            "(c) warm re-run",
            f"{warm.rate(files):,.0f} files/s",
            f"(c)/(a) = {warm_ratio:.1f}, target >= {TARGET_WARM_RATIO:.0f}",
            verdict(warm_ratio >= TARGET_WARM_RATIO),
        ),
        (
            f"peak RSS, cold, {files:,} files",
            mb(cold.max_rss),
            f"target < {TARGET_RSS_MB:.0f} MB",
            verdict(peak_mb < TARGET_RSS_MB),
        ),
        (
            f"peak RSS, cold, {files // 4:,} files",
            mb(small.max_rss),
            f"N vs N/4: x{cold.max_rss / small.max_rss:.2f} (flat is ~1)",
            "",
        ),
        ("peak RSS, warm", mb(warm.max_rss), "", ""),
        ("process tree, cold (sampled)", mb(cold.tree_rss), "incl. parse workers", ""),
        ("process tree, N/4 (sampled)", mb(small.tree_rss), "", ""),
    ]
    print()
    for label, value, target, ok in rows:
        print(f"{label:<32} {value:>15}   {target:<40} {ok}")


if __name__ == "__main__":
    sys.exit(main())
