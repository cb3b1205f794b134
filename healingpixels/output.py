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

    def __init__(self, output: Path, update: bool = False, previous_files: set[str] | None = None):
        self.output = output
        self.update = update and output.is_dir()
        self.previous_files = previous_files  # what the output holds, when known: an update then need not walk it
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
            try:  # one system call for the usual case, a page's folder in a folder that exists
                os.mkdir(os.path.join(self._root, folder))
            except FileExistsError:
                pass
            except FileNotFoundError:
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
        """In an update, keep the previous build's file; False when there is none (or this build writes a new tree)."""
        if not self.update or not os.path.isfile(os.path.join(self.output, rel)):
            return False
        self._kept.add(rel)
        return True

    def reuse_all(self, rels: list[str]) -> bool:
        """Keep all of these files of the previous build, or none (then they are to be written again)."""
        if not self.update or not all(os.path.isfile(os.path.join(self.output, rel)) for rel in rels):
            return False
        self._kept.update(rels)
        return True

    def files(self) -> set[str]:
        """Every file of this build so far: written, linked, or kept in the output."""
        return self._written | self._kept

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
        if self.previous_files is not None:
            for rel in sorted(self.previous_files - wanted, reverse=True):
                _remove(root, rel)
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        for dirpath, dirnames, filenames in os.walk(root, topdown=False):
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if rel not in wanted:
                    os.unlink(os.path.join(dirpath, name))
            if dirpath != root and not os.listdir(dirpath):
                os.rmdir(dirpath)
        shutil.rmtree(self.dir, ignore_errors=True)


def _remove(root: str, rel: str) -> None:
    """Delete one file of the output, and its folders that this leaves empty."""
    try:
        os.unlink(os.path.join(root, rel))
    except FileNotFoundError:
        pass
    folder = os.path.dirname(rel)
    while folder:
        try:
            os.rmdir(os.path.join(root, folder))
        except OSError:  # not empty (or already gone)
            break
        folder = os.path.dirname(folder)


def _remove_in_background(path: Path) -> None:
    """Deleting thousands of files takes longer than the rest of a small rebuild; the new output is already in
    place, so let a detached process do it (each old tree has its own name, so removals never collide)."""
    try:
        subprocess.Popen(["rm", "-rf", "--", str(path)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
