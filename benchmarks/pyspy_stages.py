#!/usr/bin/env python3
"""Sum a py-spy raw profile of a real (parallel) `healingpixels build` into the build's stages.

Record (py-spy in its own venv; --subprocesses follows the forked workers):
  python3 -m venv /tmp/prof-venv && /tmp/prof-venv/bin/pip install py-spy
  /tmp/prof-venv/bin/py-spy record --subprocesses --nonblocking --function --format raw --rate 50 -o /tmp/hp.raw -- \
      .venv/bin/healingpixels build --root SITE --output /tmp/hp-out --no-cache
Then: python3 benchmarks/pyspy_stages.py /tmp/hp.raw [--cpu SECONDS]

Samples count threads that were running (or runnable), so the shares are shares of CPU time. With --cpu (the
build's user + sys seconds from benchmarks/run.py on a quiet machine) each share is also shown as seconds.
A sample goes to the first stage in STAGES that any of its frames matches, so the specific stages come first.
"""
from __future__ import annotations

import argparse
import collections
import re

# (stage, where it runs, substrings of a frame "function (file)"; any one matching puts the sample in the stage)
STAGES = [
    ("IPC: worker receives and unpickles its jobs", "worker", ["SimpleQueue.get (multiprocessing/queues.py)"]),
    ("IPC: worker pickles and sends results", "worker", ["SimpleQueue.put (multiprocessing/queues.py)"]),
    ("gzip + brotli siblings of each page (precompress = \"all\")", "worker", ["precompress (healingpixels/minify.py)"]),
    ("offline: links of the home pages", "worker", ["page_refs (healingpixels/offline.py)"]),
    ("page_context + context_key of pages with nothing cached", "worker", ["page_context (healingpixels/render.py)",
                                                                          "context_key (healingpixels/render.py)"]),
    ("writing files", "worker", ["Staging.write (healingpixels/output.py)"]),
    ("template: header.html (language switcher, section nav)", "worker", ["root (header.html)"]),
    ("template: everything else (base, page, review, pager, json_ld)", "worker", ["render_page (healingpixels/render.py)"]),
    ("Markdown: components (their macros)", "worker", ["_Page.component (healingpixels/markdown.py)"]),
    ("Markdown: links and images checked and rewritten", "worker", ["_Page.url (healingpixels/markdown.py)"]),
    ("Markdown: headings (ids, levels, contents list)", "worker", ["_Page.heading (healingpixels/markdown.py)"]),
    ("Markdown: parse in Rust and the rest of the walk", "worker", ["PageRenderer.render (healingpixels/markdown.py)"]),
    ("worker set-up (Jinja environments, templates)", "worker", ["_setup (healingpixels/build.py)"]),
    ("render: the rest of _render_one", "worker", ["_render_one (healingpixels/build.py)"]),
    ("IPC: main pickles jobs (pool task thread)", "main", ["Pool._handle_tasks (multiprocessing/pool.py)"]),
    ("IPC: main receives results (pool result thread)", "main", ["Pool._handle_results (multiprocessing/pool.py)"]),
    ("forking the pool", "main", ["Pool.__init__ (multiprocessing/pool.py)"]),
    ("front matter: YAML", "main", ["parse_front_matter (healingpixels/content.py)"]),
    ("front matter: field checks", "main", ["check_meta (healingpixels/content.py)"]),
    ("content.load: walk, read, hash, tree", "main", ["load (healingpixels/content.py)"]),
    ("context_key: json.dumps + blake2b of each page's context", "main", ["context_key (healingpixels/render.py)"]),
    ("page_context: each page's template data", "main", ["page_context (healingpixels/render.py)"]),
    ("fingerprint: hash of code, theme, site.toml", "main", ["fingerprint (healingpixels/build.py)"]),
    ("tokens + assets (CSS, images)", "main", ["publish (healingpixels/assets.py)", "load_tokens (healingpixels/assets.py)"]),
    ("link check", "main", ["check_links (healingpixels/build.py)"]),
    ("listing pages and offline shell (404, root, sitemap, reviewers)", "main", ["_write_extras (healingpixels/build.py)"]),
    ("source map JSON", "main", ["write_source_map (healingpixels/build.py)"]),
    ("cache load/save (pickle)", "main", ["Cache.load (healingpixels/build.py)", "Cache.save (healingpixels/build.py)"]),
    ("commit (swap output into place)", "main", ["Staging.commit (healingpixels/output.py)"]),
    ("imports (interpreter start-up)", "main", ["_find_and_load (<frozen importlib._bootstrap>)"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", help="py-spy --format raw output")
    ap.add_argument("--cpu", type=float, help="the build's CPU seconds, to show each share in seconds")
    a = ap.parse_args()
    found: collections.Counter = collections.Counter()
    total = 0
    for line in open(a.raw, encoding="utf-8"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        n = int(n)
        total += n
        frames = stack.split(";")
        worker = sum(f.startswith("process ") for f in frames) > 1
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames if not f.startswith("process ")]
        for stage, where, keys in STAGES:
            if (where == "worker") == worker and any(k in f for f in frames for k in keys):
                found[stage] += n
                break
        else:
            found["other (" + ("worker" if worker else "main") + ")"] += n
    print(f"| stage | process | share of CPU samples | {'cpu s (scaled) |' if a.cpu else ''}")
    print(f"|---|---|---|{'---|' if a.cpu else ''}")
    order = [s for s, _, _ in STAGES] + ["other (worker)", "other (main)"]
    where = {s: w for s, w, _ in STAGES} | {"other (worker)": "worker", "other (main)": "main"}
    for stage in sorted(order, key=lambda s: -found[s]):
        if found[stage]:
            share = found[stage] / total
            print(f"| {stage} | {where[stage]} | {100 * share:.1f} % |" + (f" {share * a.cpu:.1f} |" if a.cpu else ""))
    workers = sum(n for s, n in found.items() if where.get(s) == "worker")
    print(f"\n{total} samples; workers {100 * workers / total:.1f} %, main process {100 - 100 * workers / total:.1f} %")


if __name__ == "__main__":
    main()
