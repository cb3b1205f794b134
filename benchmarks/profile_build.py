#!/usr/bin/env python3
"""Profile one cold build of a site in ONE process, and measure what the process pool's pickling costs.

Usage: .venv/bin/python benchmarks/profile_build.py SITE [--out /tmp/hp.prof] [--top 30] [--wall]

build.py has no switch for the number of workers, so this sets build.PARALLEL_FROM above the page count: the pages
are then rendered in this process, one after another, exactly as the workers would render them, and cProfile sees
every stage. CPU time (time.process_time) is the profiler's clock unless --wall is given, so that other processes
on a shared machine inflate the figures less. The output goes to a temporary folder that is deleted afterwards.

Then, outside the profile, it rebuilds the jobs the parallel build would send to its workers, pickles them in the
same chunks, and reports the bytes and the seconds to pickle and unpickle them: the IPC cost a profile of the main
process alone would not show (the pool pickles in a helper thread, and workers unpickle in other processes).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

# (stage, module file, function name): summed cumulative time of each; nested stages are indented in the report.
STAGES = [
    ("config + fingerprint (hash of code, theme, site.toml)", "build.py", "fingerprint"),
    ("content.load: read, hash, front matter, tree", "content.py", "load"),
    ("  front matter: YAML parse", "content.py", "parse_front_matter"),
    ("  front matter: field checks", "content.py", "check_meta"),
    ("  blake2b digest of each source", "content.py", "digest"),
    ("  tree, translations", "content.py", "_link_tree"),
    ("tokens + assets.publish (CSS, images copied)", "assets.py", "publish"),
    ("worker set-up (parser, Jinja envs, templates)", "build.py", "_setup"),
    ("render one page (everything below)", "build.py", "_render_one"),
    ("  page_context: data each template sees", "render.py", "page_context"),
    ("  context_key: marshal + blake2b of each context", "render.py", "context_key"),
    ("  Markdown: PageRenderer.render", "markdown.py", "render"),
    ("    parse: markdown-it-pyrs builds the tree (Rust)", "~", "<method 'tree' of 'builtins.MarkdownIt' objects>"),
    ("    headings: ids, levels, contents list", "markdown.py", "heading"),
    ("    links and images: checked, rewritten", "markdown.py", "url"),
    ("    tables", "markdown.py", "table"),
    ("    components (their macros)", "markdown.py", "component"),
    ("  Jinja template render (render_page)", "render.py", "render_page"),
    ("  writing files (Staging.write)", "output.py", "write"),
    ("link check (check_links)", "build.py", "check_links"),
    ("listing pages and offline shell (404, root, sitemap, reviewers)", "build.py", "_write_extras"),
    ("offline: precache list and sw.js", "offline.py", "write"),
    ("commit (rename into place)", "output.py", "commit"),
]


def stage_times(stats: pstats.Stats) -> dict[str, tuple[float, int]]:
    found: dict[str, tuple[float, int]] = {}
    for (file, _, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        for label, mod, name in STAGES:
            if func == name and (file == mod or file.endswith("healingpixels/" + mod)):  # "~": a built-in
                t, n = found.get(label, (0.0, 0))
                # cumulative time counted once: recursive calls (nc > cc) are already inside ct
                found[label] = (t + ct, n + cc)
    return found


def pickle_cost(site_root: Path) -> None:
    """Rebuild the jobs a parallel rebuild sends its workers when every page must be rendered again (a cold build
    sends only indexes: its workers work out the contexts) and time pickling them in its chunk size."""
    from healingpixels import assets, config as config_mod, content, render

    config = config_mod.load(site_root, None)
    site, _ = content.load(config, {})
    token_set, _ = assets.load_tokens(config)
    shared = render.shared_context(config, {"theme.css": "/assets/theme.css"}, token_set)
    jobs = []
    for index, page in enumerate(site.pages):
        ctx = render.page_context(site, page, shared)
        jobs.append((index, ctx, render.context_key(ctx)))
    workers = min(os.cpu_count() or 1, 8)
    size = max(8, len(jobs) // (workers * 8))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    t0 = time.process_time()
    blobs = [pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL) for c in chunks]
    t1 = time.process_time()
    for b in blobs:
        pickle.loads(b)
    t2 = time.process_time()
    sizes = [len(b) for b in blobs]
    only_ctx = sum(len(pickle.dumps([j[1] for j in c], protocol=pickle.HIGHEST_PROTOCOL)) for c in chunks)
    bodies = sum(len(p.body.encode()) for p in site.pages)
    print(f"\nIPC to the pool ({workers} workers, {len(chunks)} chunks of {size} jobs): "
          f"{sum(sizes) / 1e6:.1f} MB pickled ({min(sizes) / 1e6:.1f}–{max(sizes) / 1e6:.1f} MB a chunk; "
          f"the contexts alone {only_ctx / 1e6:.1f} MB; all Markdown bodies {bodies / 1e6:.1f} MB), "
          f"pickle {t1 - t0:.2f} s cpu in the parent, unpickle {t2 - t1:.2f} s cpu in the workers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--out", type=Path, default=Path("/tmp/hp.prof"))
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--wall", action="store_true", help="profile wall time instead of CPU time")
    a = ap.parse_args()
    from healingpixels import build

    build.PARALLEL_FROM = 10**9  # render every page in this process
    tmp = Path(tempfile.mkdtemp(prefix="hp-profile-"))
    profiler = cProfile.Profile(time.perf_counter if a.wall else time.process_time)
    started, cpu0 = time.perf_counter(), time.process_time()
    profiler.enable()
    result = build.build(a.site, output=tmp / "site", use_cache=False)
    profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    print(f"built {sum(result.pages.values())} pages, {result.rendered} rendered, in one process: "
          f"{wall:.2f} s wall, {cpu:.2f} s cpu (under the profiler)", file=sys.stderr)
    shutil.rmtree(tmp)
    profiler.dump_stats(a.out)
    stats = pstats.Stats(str(a.out))
    total = stats.total_tt
    print(f"\nStages (cumulative {'wall' if a.wall else 'cpu'} s under cProfile; total {total:.2f} s):\n")
    print("| stage | s | % | calls |\n|---|---|---|---|")
    found = stage_times(stats)
    for label, _, _ in STAGES:
        t, n = found.get(label, (0.0, 0))
        print(f"| {label} | {t:.2f} | {100 * t / total:.1f} | {n:,} |")
    print(f"\nTop {a.top} functions by own time:\n")
    stats.sort_stats("tottime").print_stats(a.top)
    pickle_cost(a.site.resolve())
    print(f"profile: {a.out} (python -m pstats {a.out}, or snakeviz)", file=sys.stderr)


if __name__ == "__main__":
    main()
