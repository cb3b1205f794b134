"""Output: build into a staging folder beside the real one, then swap it in, so a failed build changes nothing."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


class Staging:
    """A new output tree. Unchanged files are hard links into the previous output: no copy, and no shared writes,
    because every file here is either linked once or written fresh, never both."""

    def __init__(self, output: Path):
        self.output = output
        self.previous = output if output.is_dir() else None
        self.dir = output.parent / f".{output.name}.building"
        self._made: set[str] = set()
        self._root = str(self.dir)
        self._previous = str(self.previous) if self.previous else None
        if self.dir.exists():  # left by a build that was killed
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)

    def _parent(self, rel: str) -> str:
        """The path to write REL at, its folder made once (plain strings: this runs for every file of a build)."""
        folder = os.path.dirname(rel)
        if folder not in self._made:
            os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            self._made.add(folder)
        return os.path.join(self._root, rel)

    def write(self, rel: str, data: bytes) -> None:
        with open(self._parent(rel), "wb") as f:
            f.write(data)

    def reuse(self, rel: str) -> bool:
        """Link the previous build's file into place; False when there is none to link."""
        if self._previous is None:
            return False
        old = os.path.join(self._previous, rel)
        try:
            os.link(old, self._parent(rel))
            return True
        except FileNotFoundError:
            return False
        except OSError:  # a file system without hard links
            shutil.copyfile(old, self._parent(rel))
            return True

    def copy(self, source: Path, rel: str) -> None:
        shutil.copyfile(source, self._parent(rel))

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def commit(self) -> None:
        """Swap the new tree in with two renames, then remove the old tree."""
        old = self.output.parent / f".{self.output.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        if self.output.exists():
            os.rename(self.output, old)
        os.rename(self.dir, self.output)
        if old.exists():
            _remove_in_background(old)


def _remove_in_background(path: Path) -> None:
    """Deleting thousands of files takes longer than the rest of a small rebuild; the new output is already in
    place, so let a detached process do it (each old tree has its own name, so removals never collide)."""
    try:
        subprocess.Popen(["rm", "-rf", "--", str(path)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
