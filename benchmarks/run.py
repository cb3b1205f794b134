#!/usr/bin/env python3
"""Time Healing Pixels against Hugo and Eleventy on the shared health-education corpus; time its rebuilds with the cache.

Usage: benchmarks/run.py [--sizes 1000] [--runs 5] [--peers hugo,eleventy|none] [--bench-dir ../shared/bench]
                         [--work /tmp/hp-bench] [--layout flat|sections] [--no-cold] [--no-incremental]
                         [--no-snapshot | --code DIR]

For each size N (topic pages per language, 4 languages):
  1. generates the corpus with shared/bench/make_corpus.py --pages N --seed 1 (not timed);
  2. lays it out as a Healing Pixels site (site.toml, content/<lang>/ with a home page each, content/images/) and,
     through the peer adapters in shared/bench/peers, as a Hugo and an Eleventy site (not timed);
  3. times cold full builds: 1 warm-up round + RUNS counted rounds; each round builds every generator once, in an
     order that rotates each round, each run into a new, empty output folder; Healing Pixels with --no-cache;
  4. times Healing Pixels' rebuilds with its cache into one output folder: the first build (cache written), then
     1 warm-up round + RUNS rounds of: no change; one page's body edited; one page's title edited; page.html of a
     site-local copy of the theme edited (a Jinja comment, so only the fingerprint changes).
Prints Markdown tables; writes them and every raw figure to WORK/results-<time>.{md,json}.

Figures per run: wall s and cpu s (user + sys, including waited-for children such as our process pool) from
/usr/bin/time; peak RSS of the largest single process (/usr/bin/time %M); the peak of the summed RSS and of the
summed PSS of the whole process tree, sampled from /proc (RSS every 0.1 s; PSS every 2 s, and every 0.5 s while
the RSS grows; PSS splits the pages the forked workers
share with their parent, so its sum is the honest total); the 1-minute load average before the run; and
"other cpu": CPU seconds the machine spent during the run that were not the build's (someone else's tests).

Shared machine: before each run it waits (up to --max-wait s) until less than --quiet-below of all cores were
busy over 2 s, and a run during which other processes used more than --max-other of the machine is redone (up to
--retries times; then kept and counted as "kept noisy"). The tables say how many runs were redone.

The generator's code (healingpixels/, themes/, components/, locales/) is copied into WORK/code at the start and
run from that copy (PYTHONPATH, with the work tree's .venv), so that edits others make to the work tree during a
long run do not change what is measured; --code DIR reuses an earlier copy; --no-snapshot runs the work tree.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh-Hans", "ru", "ko")
HOME = {  # the starter home page text `healingpixels new` writes
    "en": ("English", "Health information", "Clear, checked health advice for you and your family."),
    "zh-Hans": ("中文（简体）", "健康信息", "为您和家人提供清晰、经过审核的健康建议。"),
    "ru": ("Русский", "Информация о здоровье", "Понятные и проверенные советы о здоровье для вас и вашей семьи."),
    "ko": ("한국어", "건강 정보", "여러분과 가족을 위한 명확하고 검증된 건강 정보입니다."),
}
SECTION = {"en": "Health topics", "zh-Hans": "健康主题", "ru": "Темы о здоровье", "ko": "건강 주제"}
EMERGENCY = {"en": ["112"], "zh-Hans": ["120"], "ru": ["103", "112"], "ko": ["119"]}
TIME_FORMAT = "%e %U %S %M"  # wall s, user s, sys s, max RSS KiB of the largest process waited for
CODE_PARTS = ("healingpixels", "themes", "components", "locales")
EDIT_PAGE = "asthma-symptoms"  # the page edited in the incremental runs (falls back to the first page)


# ---------------------------------------------------------------------------------------------------- measuring

def _cpu_busy() -> tuple[float, float]:
    """CPU seconds the whole machine (all cores) has spent busy, and had stolen by the host, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def busy_fraction(window: float = 2.0) -> float:
    """The share of all cores' time spent busy over the next `window` seconds."""
    b0, _ = _cpu_busy()
    time.sleep(window)
    return (_cpu_busy()[0] - b0) / (window * (os.cpu_count() or 1))


def load1() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class TreeSampler(threading.Thread):
    """Samples the memory of all descendants of a process from /proc every `interval` s until stopped."""

    def __init__(self, root_pid: int, interval: float = 0.1, pss_every: int = 20):
        super().__init__(daemon=True)
        # PSS comes from smaps_rollup, which walks every page table: about a quarter of a core for a 1.3 GB process
        # read 10 times a second, which would slow the build it measures. So RSS (a counter, cheap) is read every
        # `interval`, PSS every pss_every-th time (2 s), and always at the first sample.
        self.root_pid, self.interval, self.pss_every = root_pid, interval, pss_every
        self.stop = threading.Event()
        self.hwm: dict[int, int] = {}  # pid -> max VmHWM seen (KiB)
        self.sum_rss = 0  # KiB, peak over samples of the summed RSS
        self.sum_pss = 0  # KiB, peak over samples of the summed PSS
        self.max_procs = 0

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(name))
        out, stack = [], list(children.get(self.root_pid, ()))  # the descendants, not /usr/bin/time itself
        while stack:
            pid = stack.pop()
            out.append(pid)
            stack.extend(children.get(pid, ()))
        return out

    @staticmethod
    def _read(pid: int, pss: bool) -> tuple[int, int, int]:
        rss = hwm = total = 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        if pss:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total = int(line.split()[1])
                        break
        return rss, hwm, total

    def run(self) -> None:
        n, rss_at_pss, last_pss = 0, 0, 0
        while not self.stop.is_set():
            total_rss = total_pss = 0
            pids = self._tree()
            self.max_procs = max(self.max_procs, len(pids))
            # PSS every pss_every-th sample, and also (at most every 5th) when the summed RSS has grown by a tenth
            # since the last PSS reading, so that short runs get a PSS near their peak too
            grown = self.sum_rss > rss_at_pss * 1.1 and n - last_pss >= 5
            with_pss = n % self.pss_every == 0 or grown or (not self.sum_pss and pids)
            for pid in pids:
                try:
                    rss, hwm, pss = self._read(pid, with_pss)
                except (OSError, ValueError):
                    continue
                total_rss += rss
                total_pss += pss
                self.hwm[pid] = max(self.hwm.get(pid, 0), hwm)
            self.sum_rss = max(self.sum_rss, total_rss)
            self.sum_pss = max(self.sum_pss, total_pss)
            if with_pss:
                rss_at_pss, last_pss = total_rss, n
            n += 1
            self.stop.wait(self.interval)


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run cmd under /usr/bin/time with a memory sampler; return its figures and output. Exits on failure."""
    os.sync()  # the previous run's dirty pages are written now, not during this run
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        load = load1()
        busy0, steal0 = _cpu_busy()
        started = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-o", t.name, "-f", TIME_FORMAT, *cmd], env=env, cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        out, err = proc.communicate()
        elapsed = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        busy1, steal1 = _cpu_busy()
        if proc.returncode:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err[-4000:]}{out[-2000:]}")
        wall, user, sys_, rss = t.read().split()[-4:]
    cpu = float(user) + float(sys_)
    return {"wall": float(wall), "wall_precise": elapsed, "cpu": cpu, "rss_max": int(rss) / 1024,
            "rss_sum": sampler.sum_rss / 1024, "pss_sum": sampler.sum_pss / 1024, "procs": sampler.max_procs,
            "load1": load, "other_cpu": max(0.0, busy1 - busy0 - cpu), "steal": steal1 - steal0,
            "stdout": out, "stderr": err}


def wait_quiet(below: float, max_wait: float) -> tuple[float, float]:
    """Wait up to max_wait s until less than `below` of all cores were busy over 2 s; return (busy share, s waited)."""
    started = time.monotonic()
    while True:
        busy = busy_fraction()
        if busy < below or time.monotonic() - started >= max_wait:
            return busy, time.monotonic() - started


def quiet_run(args, cmd: list[str], env: dict | None = None, prepare=None, counted: bool = True) -> dict:
    """timed(cmd) once the machine is quiet; redone, up to args.retries times, when other processes took more CPU
    during the run than args.max_other of the machine (+ 0.3 s). prepare(), if given, runs before every attempt.
    The discarded attempts' figures are kept in the result under "discarded"."""
    discarded = []
    while True:
        if prepare:
            prepare()
        busy, waited = wait_quiet(args.quiet_below, args.max_wait) if counted else (busy_fraction(0.5), 0.0)
        r = timed(cmd, env=env, cwd=args.work)
        r.update(busy_before=busy, waited=waited)
        r["noisy"] = r["other_cpu"] > args.max_other * r["wall"] * (os.cpu_count() or 1) + 0.3
        if not counted or not r["noisy"] or len(discarded) >= args.retries:  # a warm-up is never redone
            r["discarded"] = discarded
            return r
        print(f"    noisy: other processes took {r['other_cpu']:.2f} cpu s during this {r['wall']:.2f} s run; again",
              file=sys.stderr, flush=True)
        discarded.append({k: r[k] for k in ("wall", "cpu", "other_cpu", "load1", "stdout")})


def output_stats(folder: Path) -> tuple[int, int]:
    html = size = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            html += name.endswith(".html")
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return html, size


def _show(size, tool, label, r, extra=""):
    print(f"  {size} {tool:13} {label:26} wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s  rss {r['rss_max']:6.0f} MiB "
          f"(sum pss {r['pss_sum']:6.0f}){extra}  load1 {r['load1']:.2f}  busy before {r['busy_before']:.2f}  "
          f"other cpu {r['other_cpu']:.2f} s{'  NOISY' if r['noisy'] else ''}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------- set-up

def snapshot(work: Path) -> tuple[Path, dict]:
    """Copy the generator's code into WORK/code and describe which version it is."""
    dest = work / "code"
    if dest.exists():
        shutil.rmtree(dest)
    for part in CODE_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    version = {"code_digest": code_digest(dest), **git_state()}
    (dest / "VERSION.json").write_text(json.dumps(version, indent=1))
    return dest, version


def code_digest(folder: Path) -> str:
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.name != "VERSION.json"):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def git_state() -> dict:
    def git(*args):
        r = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return r.stdout.rstrip("\n") if r.returncode == 0 else ""
    changed = git("status", "--porcelain", "--", *CODE_PARTS)
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed": changed.splitlines()}


def hp_command(args, code: Path | None) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if code is None:
        return [str(args.python.parent / "healingpixels")], env
    env["PYTHONPATH"] = str(code)  # before site-packages, so before the editable install of the work tree
    return [str(args.python), "-c", "from healingpixels.cli import run; run()"], env


def ensure_tools(peers: list[str], bench: Path) -> None:
    missing = [tool for tool in ("/usr/bin/time",) + (("hugo",) if "hugo" in peers else ()) if not shutil.which(tool)]
    if missing:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print(f"installing {' '.join(missing)} from Debian", file=sys.stderr)
            subprocess.run(["apt-get", "install", "-y", *("time" if m == "/usr/bin/time" else m for m in missing)], check=True)
        else:
            raise SystemExit("needs: apt-get install -y hugo time")
    for peer in peers:
        script = bench / "peers" / f"{peer}.sh"
        if not script.exists():
            raise SystemExit(f"no adapter {script}")
        if peer != "hugo":  # hugo.sh has no install step: Hugo comes from Debian
            subprocess.run([str(script), "install"], check=True, stdout=subprocess.DEVNULL)


def layout_hp(corpus: Path, site: Path, layout: str, theme_from: Path | None = None) -> None:
    """The corpus as a site `healingpixels new` would start: site.toml, a home page per language, content/images/."""
    if site.exists():
        shutil.rmtree(site)
    (site / "content").mkdir(parents=True)
    lines = ['base_url = "https://health.example.org/"', 'default_language = "en"', 'output = "public"', "",
             "[theme]", 'name = "harbin-ice"']
    for code in LANGS:
        name, title, _ = HOME[code]
        lines += ["", f"[languages.{code}]", f"name = {json.dumps(name, ensure_ascii=False)}",
                  f"title = {json.dumps(title, ensure_ascii=False)}", f"emergency = {json.dumps(EMERGENCY[code])}"]
        if code != "en":
            lines.append('fallback = ["en"]')
    (site / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for code in LANGS:
        _, title, description = HOME[code]
        folder = site / "content" / code
        pages = folder / "topics" if layout == "sections" else folder
        shutil.copytree(corpus / code, pages)
        (folder / "index.md").write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n"
                                         f"description: {json.dumps(description, ensure_ascii=False)}\n---\n\n"
                                         f"{description}\n", encoding="utf-8")
        if layout == "sections":
            (pages / "index.md").write_text(f"---\ntitle: {json.dumps(SECTION[code], ensure_ascii=False)}\n---\n",
                                            encoding="utf-8")
    shutil.copytree(corpus / "images", site / "content" / "images")
    if theme_from is not None:  # a site-local copy of the theme, to edit its templates
        shutil.copytree(theme_from, site / "themes" / theme_from.name)



# ---------------------------------------------------------------------------------------------------- runs

def cold_rows(args, size: int, sites: dict[str, Path], hp_cmd, hp_env, results: dict) -> None:
    tools = list(sites)
    out_root = args.work / "out" / f"cold-{size}"
    shutil.rmtree(out_root, ignore_errors=True)
    out_root.mkdir(parents=True)
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    serial = iter(range(10**6))
    for rnd in range(args.runs + 1):
        order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]  # rotate, so no generator always goes first
        for tool in order:
            out = Path()

            def fresh():  # a new, empty folder for every attempt; the generator creates "site" in it
                nonlocal out
                out = out_root / f"{tool}-{next(serial)}" / "site"
                out.parent.mkdir()
                if tool == "healingpixels":
                    cmd[:] = [*hp_cmd, "build", "--root", str(sites[tool]), "--output", str(out), "--no-cache", "--audit", "none"]
                else:
                    cmd[:] = [str(args.bench / "peers" / f"{tool}.sh"), "build", str(sites[tool]), str(out)]

            cmd: list[str] = []
            r = quiet_run(args, cmd, env=hp_env if tool == "healingpixels" else None, prepare=fresh, counted=rnd > 0)
            r["round"] = rnd
            if rnd == 1:
                r["html"], r["bytes"] = output_stats(out)
            _show(size, tool, "warm-up" if rnd == 0 else f"run {rnd}/{args.runs}", r)
            r.pop("stdout"), r.pop("stderr")
            if rnd:
                runs[tool].append(r)
    shutil.rmtree(out_root)  # deleted only after the last run, so that no deletion overlaps a timed build
    results.setdefault("cold", {})[str(size)] = runs


def _wait_old_trees(out: Path, limit: float = 120) -> None:
    """Our build swaps the new output in and leaves the old tree to a detached `rm -rf`: let it finish, untimed."""
    deadline = time.monotonic() + limit
    while any(p.name.startswith(f".{out.name}.old-") for p in out.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)


def incremental(args, size: int, corpus: Path, code: Path | None, hp_cmd, hp_env, results: dict) -> None:
    """Rebuilds with the cache into one output folder: the first (cache written), then rounds of four changes."""
    site = args.work / "sites" / f"hp-inc-{size}"
    layout_hp(corpus, site, args.layout, theme_from=(code or REPO) / "themes" / "harbin-ice")
    pages = site / "content" / "en" / ("topics" if args.layout == "sections" else "")
    page = pages / f"{EDIT_PAGE}.md"
    if not page.exists():
        page = sorted(p for p in pages.glob("*.md") if p.name != "index.md")[0]
    template = site / "themes" / "harbin-ice" / "templates" / "page.html"
    out = args.work / "out" / f"inc-{size}" / "site"
    shutil.rmtree(out.parent, ignore_errors=True)
    out.parent.mkdir(parents=True)
    build = [*hp_cmd, "build", "--root", str(site), "--output", str(out), "--audit", "none"]
    edits = iter(range(1, 10**6))

    def no_change():
        _wait_old_trees(out)

    def body():
        _wait_old_trees(out)
        with page.open("a", encoding="utf-8") as f:
            f.write(f"\nThis sentence was added by the benchmark, edit {next(edits)}.\n")

    def title():
        _wait_old_trees(out)
        text = page.read_text(encoding="utf-8")
        n = next(edits)
        text = re.sub(r'^title: "(.*?)( \(edit \d+\))?"$', lambda m: f'title: "{m.group(1)} (edit {n})"', text,
                      count=1, flags=re.M)
        page.write_text(text, encoding="utf-8")

    def tmpl():
        _wait_old_trees(out)
        with template.open("a", encoding="utf-8") as f:
            f.write(f"{{# benchmark edit {next(edits)} #}}\n")

    cases = [("no change", no_change), ("one page's body edited", body), ("one page's title edited", title),
             ("page.html template edited", tmpl)]
    runs: dict[str, list[dict]] = {"first build, cache written": []} | {name: [] for name, _ in cases}

    def keep(name, r, label):
        r["rendered"], r["cli_s"] = _rendered(r["stdout"]), _cli_seconds(r["stdout"])
        _show(size, "incremental", f"{name} {label}", r, extra=f"  rendered {r['rendered']}")
        r.pop("stdout"), r.pop("stderr")
        for d in r["discarded"]:
            d["rendered"] = _rendered(d.pop("stdout"))
        return r

    def from_scratch():  # no cache, no output: each attempt at the first build is a cold one that writes the cache
        _wait_old_trees(out)
        shutil.rmtree(site / ".healingpixels-cache", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    runs["first build, cache written"].append(keep("first build", quiet_run(args, build, hp_env, from_scratch), ""))
    for rnd in range(args.runs + 1):
        for name, edit in cases:
            r = keep(name, quiet_run(args, build, hp_env, edit, counted=rnd > 0),
                     "warm-up" if rnd == 0 else f"run {rnd}/{args.runs}")
            r["round"] = rnd
            if rnd:
                runs[name].append(r)
    _wait_old_trees(out)
    results.setdefault("incremental", {})[str(size)] = {"edited": page.relative_to(site).as_posix(), "runs": runs}
    shutil.rmtree(out.parent)


def _rendered(stdout: str) -> int | None:
    m = re.search(r"; (\d+) rendered\)", stdout)
    return int(m.group(1)) if m else None


def _cli_seconds(stdout: str) -> float | None:
    m = re.search(r" in ([\d.]+) s -> ", stdout)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------------- tables

def _med(runs, key):
    return statistics.median(r[key] for r in runs)


def _span(runs, key):
    return f"{_med(runs, key):.2f} ({min(r[key] for r in runs):.2f}–{max(r[key] for r in runs):.2f})"


def _noise(runs):
    loads = f"{min(r['load1'] for r in runs):.2f}–{max(r['load1'] for r in runs):.2f}"
    redone = sum(len(r["discarded"]) for r in runs)
    kept = sum(r["noisy"] for r in runs)
    return f"{loads} | {max(r['other_cpu'] for r in runs):.2f} | {redone}{f', {kept} kept noisy' if kept else ''}"


def _heading(results: dict) -> str:
    v, m = results["version"], results["machine"]
    return (f"Code: commit {v['commit']}" + (f" + {len(v['changed'])} uncommitted change(s)" if v["changed"] else "")
            + f", code digest {v['code_digest']}; layout {results['args']['layout']}; {m['cpus']} CPUs; {m['python']}; "
            f"started {results['started']}, finished {results['finished']}\n\n")


NAMES = {"healingpixels": "Healing Pixels", "hugo": "Hugo", "eleventy": "Eleventy"}


def tables(results: dict) -> str:
    lines = []
    for size, rows in results.get("cold", {}).items():
        total = 4 * int(size)
        lines += [f"### Cold full build, {size} pages per language ({total:,} source pages), "
                  f"median of {len(next(iter(rows.values())))} runs after 1 warm-up", "",
                  "| generator | HTML files | output MB | wall s, median (min–max) | cpu s, median | "
                  "peak RSS MiB, largest process | peak MiB, all processes: RSS sum / PSS sum | wall ms per page | "
                  "vs Hugo, wall / cpu | vs Eleventy, wall / cpu | load1 before (min–max) | other cpu s, max | runs redone |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        ref = {tool: _med(runs, "wall") for tool, runs in rows.items()}
        ref_cpu = {tool: _med(runs, "cpu") for tool, runs in rows.items()}
        for tool, runs in rows.items():
            first, wall, cpu = runs[0], ref[tool], ref_cpu[tool]
            ratios = [f"{wall / ref[p]:.1f}× / {cpu / ref_cpu[p]:.1f}×" if p in ref and p != tool else "–"
                      for p in ("hugo", "eleventy")]
            lines.append(
                f"| {NAMES.get(tool, tool)} | {first.get('html', 0):,} | {first.get('bytes', 0) / 1e6:.0f} | "
                f"{_span(runs, 'wall')} | {_med(runs, 'cpu'):.2f} | {_med(runs, 'rss_max'):.0f} | "
                f"{_med(runs, 'rss_sum'):.0f} / {_med(runs, 'pss_sum'):.0f} | {1000 * wall / total:.1f} | "
                f"{ratios[0]} | {ratios[1]} | {_noise(runs)} |")
        lines.append("")
    for size, inc in results.get("incremental", {}).items():
        lines += [f"### Healing Pixels rebuilds with the cache, {size} pages per language, same output folder "
                  f"(edited: `{inc['edited']}`)", "",
                  "| case | pages rendered | wall s, whole command, median (min–max) | build s as the CLI reports it, "
                  "median | cpu s, median | peak RSS MiB, largest process / PSS sum | load1 before (min–max) | "
                  "other cpu s, max | runs redone |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for case, runs in inc["runs"].items():
            rendered = sorted({r["rendered"] for r in runs}, key=str)
            cli = [r["cli_s"] for r in runs if r["cli_s"] is not None]
            lines.append(
                f"| {case} | {', '.join(map(str, rendered))} | {_span(runs, 'wall')} | "
                f"{statistics.median(cli) if cli else float('nan'):.2f} | {_med(runs, 'cpu'):.2f} | "
                f"{_med(runs, 'rss_max'):.0f} / {_med(runs, 'pss_sum'):.0f} | {_noise(runs)} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--sizes", default="1000", help="topic pages per language, comma-separated (each ×4 languages)")
    ap.add_argument("--runs", type=int, default=5, help="counted runs per row, after 1 warm-up")
    ap.add_argument("--peers", default="hugo,eleventy", help="peers to time beside us, comma-separated, or none")
    ap.add_argument("--bench-dir", dest="bench", type=Path, default=REPO.parent / "shared" / "bench",
                    help="shared/bench with make_corpus.py and peers/ (default: ../shared/bench from the repo)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/hp-bench"), help="corpora, sites, outputs, results")
    ap.add_argument("--python", type=Path, default=REPO / ".venv" / "bin" / "python", help="the venv's python")
    ap.add_argument("--layout", choices=("flat", "sections"), default="flat",
                    help="flat: topic pages directly in content/<lang>/, as the corpus has them; "
                         "sections: in content/<lang>/topics/ with a section index")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold builds")
    ap.add_argument("--no-incremental", action="store_true", help="skip the rebuilds with the cache")
    ap.add_argument("--no-snapshot", action="store_true", help="run the work tree's code, not a copy taken at start")
    ap.add_argument("--code", type=Path, help="run this earlier copy of the code (WORK/code of an earlier run) as it is")
    ap.add_argument("--quiet-below", type=float, default=0.15,
                    help="before each run, wait until less than this share of all cores was busy over 2 s …")
    ap.add_argument("--max-wait", type=float, default=60, help="… for at most this many seconds, then run anyway")
    ap.add_argument("--max-other", type=float, default=0.10,
                    help="redo a run when other processes used more than this share of the machine during it")
    ap.add_argument("--retries", type=int, default=2, help="redo a noisy run at most this many times")
    ap.add_argument("--report", type=Path, help="only print the tables of an earlier results-*.json")
    args = ap.parse_args()
    if args.report:
        results = json.loads(args.report.read_text())
        print(_heading(results) + tables(results))
        return
    args.bench = args.bench.resolve()
    args.work = args.work.resolve()
    if not (args.python.is_symlink() or args.python.exists()):
        raise SystemExit(f"no python at {args.python}: pass --python")
    args.python = args.python.absolute()  # not resolved: the venv's python is a link out of the venv
    peers = [] if args.peers in ("", "none") else args.peers.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    if not (args.bench / "make_corpus.py").exists():
        raise SystemExit(f"no make_corpus.py in {args.bench}: pass --bench-dir")
    args.work.mkdir(parents=True, exist_ok=True)
    ensure_tools(peers, args.bench)

    if args.code:  # an earlier copy: its VERSION.json says which commit and changes it was taken from
        code = args.code.resolve()
        saved = json.loads((code / "VERSION.json").read_text()) if (code / "VERSION.json").exists() else {}
        version = {"commit": "?", "changed": [], **saved, "code_digest": code_digest(code), "from": str(code)}
    else:
        code, version = snapshot(args.work) if not args.no_snapshot else (None, git_state())
    if code is not None:  # byte-compile once: PYTHONDONTWRITEBYTECODE=1 would otherwise recompile on every run
        subprocess.run([str(args.python), "-m", "compileall", "-q", str(code / "healingpixels")], check=True)
    hp_cmd, hp_env = hp_command(args, code)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results: dict = {"started": stamp, "args": {k: str(v) for k, v in vars(args).items()}, "version": version,
                     "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": subprocess.run([str(args.python), "-V"], capture_output=True,
                                                          text=True).stdout.strip(),
                                 "hugo": subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip()
                                 if "hugo" in peers else None}}
    print(f"code: commit {version['commit']}, {len(version['changed'])} uncommitted change(s) in the code"
          + (f", snapshot {version['code_digest']}" if code else ""), file=sys.stderr)
    for size in sizes:
        corpus = args.work / f"corpus-{size}"
        subprocess.run([sys.executable, str(args.bench / "make_corpus.py"), "--pages", str(size), "--out", str(corpus),
                        "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
        sites = {"healingpixels": args.work / "sites" / f"hp-{size}"}
        layout_hp(corpus, sites["healingpixels"], args.layout)
        for peer in peers:
            sites[peer] = args.work / "sites" / f"{peer}-{size}"
            subprocess.run([str(args.bench / "peers" / f"{peer}.sh"), "layout", str(corpus), str(sites[peer])], check=True)
        if not args.no_cold:
            print(f"cold builds, {size} pages per language", file=sys.stderr)
            cold_rows(args, size, sites, hp_cmd, hp_env, results)
        if not args.no_incremental:
            print(f"rebuilds with the cache, {size} pages per language", file=sys.stderr)
            incremental(args, size, corpus, code, hp_cmd, hp_env, results)
    results["finished"] = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = _heading(results) + tables(results)
    print(text)
    (args.work / f"results-{stamp}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (args.work / f"results-{stamp}.md").write_text(text)
    print(f"raw figures: {args.work / f'results-{stamp}.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
