"""Output: every file is written beside the real output first, and nothing reaches it unless the build succeeds."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


class Staging:
    """The files of one build, in a staging folder beside the output, put in place by commit() only.

    A full build (no earlier output, or no cache to say what is unchanged) writes the whole tree and swaps it in
    with two renames. An update writes only the files that changed: commit() renames each into the output (each
    rename is atomic) and deletes the files the build no longer makes. Either way a failed build leaves the
    previous output as it was, and a one-page edit of a large site does not relink thousands of files."""

    def __init__(self, output: Path, update: bool = False):
        self.output = output
        self.update = update and output.is_dir()
        self.previous = output if output.is_dir() else None
        self.dir = output.parent / f".{output.name}.building"
        self._root = str(self.dir)
        self._made: set[str] = set()
        self._written: set[str] = set()
        self._kept: set[str] = set()
        if self.dir.exists():  # left by a build that was killed
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)

    def _parent(self, rel: str) -> str:
        """The path to write REL at, its folder made once (plain strings: this runs for every file of a build)."""
        folder = os.path.dirname(rel)
        if folder not in self._made:
            os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            self._made.add(folder)
        self._written.add(rel)
        return os.path.join(self._root, rel)

    def write(self, rel: str, data: bytes) -> None:
        with open(self._parent(rel), "wb") as f:
            f.write(data)

    def copy(self, source: Path, rel: str) -> None:
        shutil.copyfile(source, self._parent(rel))

    def reuse(self, rel: str) -> bool:
        """Keep the previous build's file; False when there is none. A full build hard-links it into the new tree
        (every file there is linked once or written fresh, never both, so no write reaches the old tree)."""
        if self.previous is None:
            return False
        old = os.path.join(self.previous, rel)
        if self.update:
            if not os.path.isfile(old):
                return False
            self._kept.add(rel)
            return True
        try:
            os.link(old, self._parent(rel))
            return True
        except FileNotFoundError:
            self._written.discard(rel)
            return False
        except OSError:  # a file system without hard links
            shutil.copyfile(old, self._parent(rel))
            return True

    def take_written(self) -> set[str]:
        """In a render worker: the files written since the last call, for the parent to record."""
        written, self._written = self._written, set()
        return written

    def record(self, written: set[str]) -> None:
        """In the parent: files a render worker wrote into the staging folder."""
        self._written |= written

    def path(self, rel: str) -> Path | None:
        """Where this build's file REL is now (staged, or kept in the output), or None when the build has none."""
        if rel in self._written:
            return self.dir / rel
        if rel in self._kept:
            return self.output / rel
        return None

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def commit(self) -> None:
        if self.update:
            self._apply()
            return
        old = self.output.parent / f".{self.output.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        if self.output.exists():
            os.rename(self.output, old)
        os.rename(self.dir, self.output)
        if old.exists():
            _remove_in_background(old)

    def _apply(self) -> None:
        """Rename each changed file into the output, then delete what this build no longer makes."""
        made = set()
        for rel in sorted(self._written):
            folder = os.path.dirname(rel)
            if folder not in made:
                os.makedirs(os.path.join(self.output, folder), exist_ok=True)
                made.add(folder)
            os.replace(os.path.join(self._root, rel), os.path.join(self.output, rel))
        wanted = self._written | self._kept
        root = str(self.output)
        for dirpath, dirnames, filenames in os.walk(root, topdown=False):
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if rel not in wanted:
                    os.unlink(os.path.join(dirpath, name))
            if dirpath != root and not os.listdir(dirpath):
                os.rmdir(dirpath)
        shutil.rmtree(self.dir, ignore_errors=True)


def _remove_in_background(path: Path) -> None:
    """Deleting thousands of files takes longer than the rest of a small rebuild; the new output is already in
    place, so let a detached process do it (each old tree has its own name, so removals never collide)."""
    try:
        subprocess.Popen(["rm", "-rf", "--", str(path)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
