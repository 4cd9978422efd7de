"""The directory tree being checked: the only place a template may name local files in.

A template under review is hostile: its nested stacks (`TemplateURL`,
`Location`) must not make archlint read `/etc/passwd`, `../../secrets.yaml`
or a symlink that leads out of the checkout and print what it holds. Each
path given on the command line has a root: the repository root above it
(the nearest directory with a `.git`), else the directory itself, else the
named file's directory. A local path a template names is followed only when
its real path (symlinks resolved) lies inside the root of the template.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

STDIN = "-"


def repository_root(directory: str) -> str | None:
    """The nearest directory at or above `directory` holding a `.git`, or None."""
    current = os.path.realpath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def root_of(path: str) -> str:
    """The tree a path given on the command line opens: its repository, else itself."""
    if path == STDIN:
        directory = os.getcwd()
    elif os.path.isdir(path):
        directory = path
    else:
        directory = os.path.dirname(path) or os.curdir
    return repository_root(directory) or os.path.realpath(directory)


def roots_of(paths: Iterable[str]) -> list[str]:
    """The roots of the paths given on the command line, each once."""
    return list(dict.fromkeys(root_of(path) for path in paths))


def inside(path: str, root: str) -> bool:
    """Whether `path`, symlinks resolved, is `root` or below it (`root` is a real path)."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):  # a NUL byte, a name too long: nothing to follow
        return False
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def tree_of(path: str, roots: Sequence[str]) -> str:
    """The root a checked file belongs to: the widest given root holding it, else its own."""
    where = os.getcwd() if path == STDIN else path
    holding = [root for root in roots if inside(where, root)]
    return min(holding, key=len) if holding else root_of(path)


def escapes(location: str, resolved: str, root: str) -> bool:
    """Whether a local path a template names leaves the tree (absolute, `..` or a symlink)."""
    return os.path.isabs(location) or not inside(resolved, root)
