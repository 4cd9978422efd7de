"""Which files a check looks at: directory walks, `.gitignore`, excludes and globs.

ruff's semantics. A directory is walked in sorted order; a directory or file
is skipped when an exclude pattern (`exclude` replaces the defaults,
`extend-exclude` adds to them) or a `.gitignore` (nested ones, from the
repository root down, and `.git/info/exclude`) matches it. Patterns are
gitignore-style (`pathspec.GitIgnoreSpec`), relative to the directory of the
configuration that gave them, or the working directory. A file named on the
command line is checked even if excluded, unless `force_exclude` (pre-commit
names every staged file). A quoted glob (`'stacks/**/*.yml'`) is expanded;
one that matches nothing is a usage error.

What the walk opens is the engine's to decide, with the safety properties of
issue 10 kept here: directory links are not followed, a file link that leads
out of the walked directory is skipped, and `.gitignore` files are read as
regular files only, bounded in size.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence

from pathspec import GitIgnoreSpec

from archlint import safeio, tree

STDIN = "-"
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
# ruff's default `exclude`, and the build output of the AWS tools.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "__pycache__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
    "cdk.out",
    ".aws-sam",
)
# Never walked, whatever `exclude` says: version control's own trees.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
MAX_IGNORE_FILE_BYTES = 1024 * 1024
_MAGIC = re.compile(r"[*?[]")


class SelectionError(Exception):
    """A path on the command line that names nothing: a usage error."""


Found = tuple[str, bool]  # path, explicitly named


class _Patterns:
    """Gitignore-style patterns and the directory they are relative to."""

    def __init__(self, base: str, spec: GitIgnoreSpec) -> None:
        self.base = os.path.realpath(base)
        self.spec = spec
        self._below: dict[str, GitIgnoreSpec] = {}

    @classmethod
    def of(cls, base: str, lines: Iterable[str]) -> _Patterns:
        return cls(base, GitIgnoreSpec.from_lines(list(lines)))

    def decide(self, path: str, is_dir: bool, top: str | None = None) -> bool | None:
        """True: ignored, False: re-included (`!`), None: no pattern says.

        `top` is the directory a walk started from, named on the command line:
        a pattern that matches it (or a directory above it) does not apply
        below it, since it was asked for by name.
        """
        rel = self._relative(path)
        if rel == "":  # the base directory itself
            return None
        if rel is None:  # outside the base: only a pattern without a slash can match
            rel = os.path.basename(_real(path))
        spec = self.spec if top is None else self._spec_below(top)
        return spec.check_file(rel + "/" if is_dir else rel).include

    def _relative(self, path: str) -> str | None:
        """The path relative to the base, '/'-separated; '' for the base, None outside it."""
        real = _real(path)
        if real == self.base:
            return ""
        if not tree.inside(os.path.dirname(real), self.base):
            return None
        return os.path.relpath(real, self.base).replace(os.sep, "/")

    def _spec_below(self, top: str) -> GitIgnoreSpec:
        if top not in self._below:
            rel = self._relative(top)
            named: list[str] = []
            while rel:
                named.append(rel + "/")
                rel = rel.rpartition("/")[0]
            patterns = [
                p
                for p in self.spec.patterns
                if not (p.include and any(p.match_file(d) for d in named))
            ]
            self._below[top] = GitIgnoreSpec(patterns)
        return self._below[top]


def _read_ignore_file(path: str) -> list[str]:
    if not safeio.is_regular(path):
        return []
    try:
        data = safeio.read_regular(path, MAX_IGNORE_FILE_BYTES)
    except OSError:
        return []
    return data[:MAX_IGNORE_FILE_BYTES].decode("utf-8", "replace").splitlines()


class Selection:
    """The exclude settings of one run and the `.gitignore` files met on the way."""

    def __init__(
        self,
        excludes: Sequence[tuple[str, Sequence[str]]] = ((os.curdir, DEFAULT_EXCLUDE),),
        *,
        force_exclude: bool = False,
        respect_gitignore: bool = True,
        stdin_filename: str | None = None,
    ) -> None:
        self.excludes = [_Patterns.of(base, lines) for base, lines in excludes if lines]
        self.force_exclude = force_exclude
        self.respect_gitignore = respect_gitignore
        self.stdin_filename = stdin_filename
        self._ignores: dict[str, _Patterns | None] = {}
        self._info_exclude: dict[str, _Patterns | None] = {}

    # -- decisions --------------------------------------------------------------

    def excluded(self, path: str, is_dir: bool, top: str | None = None) -> bool:
        """Whether an exclude pattern matches the path (or, without `top`, a directory above it)."""
        return any(p.decide(path, is_dir, top) for p in self.excludes)

    def gitignored(self, path: str, is_dir: bool, top: str) -> bool:
        """Whether `.gitignore` (deepest first) or `.git/info/exclude` ignores the path."""
        if not self.respect_gitignore:
            return False
        repository = tree.repository_root(top)
        stop = repository or os.path.realpath(top)
        directory = os.path.dirname(_real(path))
        while True:
            patterns = self._ignore_file(directory)
            if patterns is not None:
                decision = patterns.decide(path, is_dir, top)
                if decision is not None:
                    return decision
            if directory == stop or not tree.inside(directory, stop):
                break
            directory = os.path.dirname(directory)
        info = self._git_info_exclude(repository) if repository else None
        return bool(info and info.decide(path, is_dir, top))

    def _ignore_file(self, directory: str) -> _Patterns | None:
        if directory not in self._ignores:
            lines = _read_ignore_file(os.path.join(directory, ".gitignore"))
            self._ignores[directory] = _Patterns.of(directory, lines) if lines else None
        return self._ignores[directory]

    def _git_info_exclude(self, repository: str) -> _Patterns | None:
        if repository not in self._info_exclude:
            git = os.path.join(repository, ".git")
            lines = (
                _read_ignore_file(os.path.join(git, "info", "exclude"))
                if os.path.isdir(git) and not os.path.islink(git)
                else []
            )
            self._info_exclude[repository] = _Patterns.of(repository, lines) if lines else None
        return self._info_exclude[repository]

    def skipped(self, path: str, is_dir: bool, top: str) -> bool:
        return self.excluded(path, is_dir, top) or self.gitignored(path, is_dir, top)

    # -- the walk ---------------------------------------------------------------

    def files(self, paths: Iterable[str]) -> Iterator[Found]:
        """(path, explicitly named) for each file to look at, in command-line order."""
        for path in paths:
            if path == STDIN:
                named = self.stdin_filename
                if not (self.force_exclude and named and self.excluded(named, False)):
                    yield path, True
            elif _MAGIC.search(path) and not os.path.exists(path):
                yield from self._glob(path)
            elif os.path.isdir(path):
                if not (self.force_exclude and self.excluded(path, True)):
                    yield from self._walk(path)
            elif os.path.exists(path):
                if not (self.force_exclude and self.excluded(path, False)):
                    yield path, True
            else:
                raise SelectionError(f"{path}: no such file or directory")

    def _walk(self, top: str, pattern: GitIgnoreSpec | None = None) -> Iterator[Found]:
        real_top = os.path.realpath(top)
        for root, dirs, files in os.walk(top):  # directory links are not followed
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in VCS_DIRS and not self.skipped(os.path.join(root, d), True, top)
            )
            for name in sorted(files):
                found = os.path.join(root, name)
                if not _wanted(found, top, pattern):
                    continue
                # A link out of the walked directory is not followed: a pull
                # request may add one to any file of the machine.
                if not _inside(os.path.realpath(found), real_top):
                    continue
                if self.skipped(found, False, top):
                    continue
                # FIFOs, devices, sockets (or links to them) are skipped
                # unopened; a dangling link is reported as unreadable.
                if safeio.is_regular(found) or not os.path.exists(found):
                    yield found, False

    def _glob(self, path: str) -> Iterator[Found]:
        """A glob's matches, found by a walk of its literal part (links not followed)."""
        top = literal_prefix(path)
        rest = os.path.relpath(path, top) if top != os.curdir else path
        if not os.path.isdir(top):
            raise SelectionError(f"{path}: no file matches this pattern")
        line = "/" + rest.replace(os.sep, "/")
        matched = False
        here = os.curdir + os.sep
        for found, explicit in self._walk(top, GitIgnoreSpec.from_lines([line])):
            matched = True
            # Named as glob() names them: 'x.yml' for '*.yml', not './x.yml'.
            yield (found[len(here) :] if top == os.curdir else found), explicit
        if not matched:
            raise SelectionError(
                f"{path}: no file matches this pattern (excluded and .gitignore'd files "
                "do not count)"
            )


def _wanted(found: str, top: str, pattern: GitIgnoreSpec | None) -> bool:
    """A walked file is a candidate: a template's suffix, or (in a glob) a match of it."""
    template_like = os.path.basename(found).lower().endswith(TEMPLATE_SUFFIXES)
    if pattern is None:
        return template_like
    rel = os.path.relpath(found, top).replace(os.sep, "/")
    if not pattern.match_file(rel):
        return False
    # Matched through a directory the glob names ('stacks/*'): the directory is
    # walked, and only templates count in it, as in any walk.
    parent = os.path.dirname(rel)
    return template_like or not (parent and pattern.match_file(parent))


def _real(path: str) -> str:
    """The absolute path, links resolved in its directories but not in its last name."""
    path = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def literal_prefix(path: str) -> str:
    """The directory part of a glob before its first wildcard ('stacks' of 'stacks/**/*.yml')."""
    parts: list[str] = []
    head = path
    while True:
        head, tail = os.path.split(head)
        if tail:
            parts.append(tail)
        if not tail or not head:
            if head:
                parts.append(head)
            break
    parts.reverse()
    literal: list[str] = []
    for part in parts:
        if _MAGIC.search(part):
            break
        literal.append(part)
    return os.path.join(*literal) if literal else os.curdir


def literal_paths(paths: Iterable[str]) -> list[str]:
    """The paths with each glob replaced by its literal directory: the trees they open."""
    return [
        literal_prefix(p) if p != STDIN and _MAGIC.search(p) and not os.path.exists(p) else p
        for p in paths
    ]
