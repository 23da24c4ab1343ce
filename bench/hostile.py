"""Hostile inputs through the whole ingestion pipeline: seconds and peak memory by size.

The last cases are hostile servers (devtools/feedsite.py, in the child process) polled as
the bot polls feeds, with a 1 s deadline per request: stacked gzip and a gzip bomb
decoding to 500 × the size, headers or body dripped, invalid character references in
every entry, a page of unclosed `<link` tags, and a teaser whose article page is a flood
of tiny paragraphs or nested divs. A server case is "-" when the feed failed (its reason
below) and "+" when entries were stored.

Each case is generated at 100 KB, 1 MB and 2 MB and ingested (decode, parse, split,
summarise, analyse, store) into a fresh database by a child process of its own, so its
peak RSS is its own; a case still running after `--timeout` seconds is stopped and shown
as such. Targets: every case at most 2 s and 300 MB at 2 MB, and a good 4 KB bulletin
still ingested in the same run (the last line). The baseline is the same pipeline on
ordinary prose of the same size.

    .venv/bin/python -m bench.hostile [--sizes 100000,1000000,2000000] [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "bulletins" / "2025-07-11-bilan-jours-1230-1234.txt"
PROSE = (
    "La Russie a lancé 741 drones et missiles contre l’Ukraine, un nouveau record. "
    "Le Royaume-Uni livrera 5000 missiles Thales à Kyiv. Les combats se poursuivent près "
    "de Pokrovsk, dans la région de Donetsk. "
)


def repeat(unit: str, size: int) -> bytes:
    """`unit` repeated to `size` bytes."""
    data = unit.encode("utf-8")
    cut = (data * (size // len(data) + 1))[:size]
    return cut.decode("utf-8", "ignore").encode("utf-8")  # never a character cut in two


CASES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "prose (baseline)": ("prose.txt", lambda n: repeat(PROSE + "\n\n", n)),
    "tiny paragraphs 'Ab cd.'": ("tiny.txt", lambda n: repeat("Ab cd.\n\n", n)),
    "one paragraph, no full stop": ("words.txt", lambda n: repeat("mot ", n)),
    "runs of '.'": ("dots.txt", lambda n: b"Titre\n\n" + repeat(".", n)),
    "'a' lines": ("lines.txt", lambda n: repeat("a\n", n)),
    "blank-line runs": ("blank.txt", lambda n: b"Titre\n\n" + repeat("\n \n", n)),
    "markdown '['": ("brackets.md", lambda n: b"# T\n\n" + repeat("[", n)),
    "markdown '*'": ("stars.md", lambda n: b"# T\n\n" + repeat("*a ", n)),
    "html '<a b='": ("attrs.html", lambda n: b"<p>" + repeat("<a b=", n)),
    "html nested divs": ("nested.html", lambda n: repeat("<div>", n // 2) + repeat("x</div>", n // 2)),
    "html comment run": ("comment.html", lambda n: b"<p>T</p>" + repeat("<!--", n)),
    "abbreviations 'M. '": ("abbr.txt", lambda n: repeat("M. ", n)),
    "one huge word": ("word.txt", lambda n: b"Titre\n\n" + repeat("a", n)),
    "digits and names": ("names.txt", lambda n: repeat("Kyiv 741 Patriot OTAN Kharkiv ", n)),
    "markdown heading lines '# h'": ("heads.md", lambda n: repeat("# h\n", n)),
    "text heading lines 'Ab cd'": ("heads.txt", lambda n: repeat("Ab cd\n\n", n)),
    "html '<h2>a b</h2>'": ("heads.html", lambda n: repeat("<h2>a b</h2>", n)),
    "markdown '# a###…'": ("hashes.md", lambda n: b"# a" + repeat("#", n) + b"x\n\nTexte."),
    "markdown rule '***…'": ("rule.md", lambda n: b"# T\n\nKyiv.\n\n" + repeat("*", n)),
    "markdown rule '_ _ …'": ("rule2.md", lambda n: b"# T\n\nKyiv.\n\n" + repeat("_ ", n)),
}  # fmt: skip


def _feed_cases() -> dict[str, Callable[[int], dict[str, object]]]:
    """Hostile servers, sized by `size`: each maps paths to `devtools.feedsite.Page`s; the
    poll reads /feed with a 1 s deadline per request."""
    from devtools.feedsite import Page, bomb, feed, page

    teaser = ('<rss version="2.0"><channel><title>T</title><item><guid>t</guid><title>Kyiv'
              "</title><link>{link}</link><description>Un court résumé.</description></item>"
              "</channel></rss>")  # fmt: skip
    return {
        "feed: stacked gzip (500x)": lambda n: {"/feed": bomb(500 * n, layers=2)},
        "feed: gzip bomb (500x)": lambda n: {"/feed": bomb(500 * n)},
        "feed: headers dripped": lambda n: {"/feed": Page(body=b" " * n, drip_headers=0.01)},
        "feed: body dripped": lambda n: {"/feed": Page(body=b" " * n, drip_body=0.001)},
        "feed: '&#xD800;' in entries": lambda n: {"/feed": feed(
            '<rss version="2.0"><channel>' + repeat("<item><title>a &#xD800;</title>"
            "<description>Kyiv &#xD800; 741.</description></item>", n).decode() + "</channel></rss>")},
        "page: '<link ' run": lambda n: {"/feed": page(b"<html><head>" + repeat("<link a=\"", n))},
        "article: tiny paragraphs": lambda n: {
            "/feed": feed(teaser), "/a": page(repeat("<p>Ab cd ef.</p>", n))},
        "article: nested divs": lambda n: {
            "/feed": feed(teaser), "/a": page(repeat("<div>", n // 2) + repeat("x</div>", n // 2))},
    }  # fmt: skip


def feed_child(case: str, size: int) -> None:
    """Run in the child process: poll one hostile server, print seconds and peak RSS."""
    sys.path.insert(0, str(ROOT))
    from bot.ingest import Limits
    from bot.ingest.feeds import poll_feeds
    from devtools.feedsite import FeedSite, Page
    from storage import open_db
    from storage.feeds import feed_state

    pages = _feed_cases()[case](size)
    site = FeedSite().start()
    for path, made in pages.items():
        assert isinstance(made, Page)
        site.pages[path] = made
    if "/a" in pages:  # the teaser's link
        site.pages["/feed"].body = site.pages["/feed"].body.replace(
            b"{link}", site.url("/a").encode()
        )
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "hostile.db")
        start = time.perf_counter()
        report = poll_feeds(db, (site.url("/feed"),), Limits(), poll_minutes=15, timeout=1.0)
        seconds = time.perf_counter() - start
        state = feed_state(db, site.url("/feed"))
        db.close()
    site.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = "added" if report.count("added") else "rejected"
    reason = state.last_error or report.summary()
    print(json.dumps({"seconds": seconds, "status": status, "reason": reason, "good": "added",
                      "peak_mb": peak}))  # fmt: skip


def child(case: str, size: int) -> None:
    """Run in the child process: ingest one case, print seconds, status and peak RSS."""
    if case.startswith(("feed:", "page:", "article:")):
        feed_child(case, size)
        return
    sys.path.insert(0, str(ROOT))
    from bot.ingest import Limits, Submission, ingest
    from storage import open_db

    name, make = CASES[case]
    data = make(size)
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "hostile.db")
        limits = Limits(max_bytes=max(2_000_000, len(data) + 1))
        start = time.perf_counter()
        outcome = ingest(db, Submission("file", f"2025-07-11-{name}", data=data), limits)
        seconds = time.perf_counter() - start
        good = ingest(db, Submission("file", SAMPLE.name, data=SAMPLE.read_bytes()), limits)
        db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB → MB on Linux
    print(json.dumps({"seconds": seconds, "status": outcome.status, "reason": outcome.reason,
                      "good": good.status, "peak_mb": peak}))  # fmt: skip


def run(case: str, size: int, timeout: float) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.hostile", "--child", case, "--size", str(size)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"seconds": float("inf"), "status": f"stopped after {timeout:g} s", "peak_mb": 0}
    if done.returncode != 0:
        return {"seconds": float("nan"), "status": f"crashed: {done.stderr.strip()[-200:]}",
                "peak_mb": 0}  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,2000000")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'case':32s}" + "".join(f"{f'{s // 1000} KB':>26s}" for s in sizes))
    worst_seconds, worst_mb, good = 0.0, 0.0, True
    baseline: dict[int, float] = {}
    reasons: dict[str, str] = {}
    for case in [*CASES, *_feed_cases()]:
        cells = []
        for size in sizes:
            r = run(case, size, args.timeout)
            seconds, peak = float(r["seconds"]), float(r["peak_mb"])  # type: ignore[arg-type]
            if case.endswith("(baseline)"):
                baseline[size] = seconds
            ratio = f" {seconds / baseline[size]:4.1f}x" if baseline.get(size) else ""
            mark = {"added": "+", "rejected": "-", "duplicate": "="}.get(str(r["status"]), "!")
            cells.append(f"{mark} {seconds:6.2f} s {peak:5.0f} MB{ratio}"
                         if seconds != float("inf") else str(r["status"]))  # fmt: skip
            if r.get("status") == "rejected":
                reasons.setdefault(case, str(r.get("reason")))
            if size == max(sizes):
                worst_seconds, worst_mb = max(worst_seconds, seconds), max(worst_mb, peak)
            good = good and r.get("good") == "added"
            if not str(r["status"]).startswith(("added", "rejected", "duplicate")):
                print(f"  {case} at {size}: {r['status']}")
        print(f"{case:32s}" + "".join(f"{c:>26s}" for c in cells))
    print("\n+ added, - rejected (reason below), = duplicate; times include the rejection")
    for case, reason in reasons.items():
        print(f"  {case}: {reason}")
    print(f"\nat {max(sizes) // 1000} KB: worst {worst_seconds:.2f} s (target 2 s), "
          f"worst peak {worst_mb:.0f} MB (target 300 MB); "
          f"the good 4 KB bulletin ingested in every run: {'yes' if good else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
