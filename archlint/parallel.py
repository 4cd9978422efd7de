"""Checking many files: in this process, or in a pool of worker processes.

Templates are independent, so a large run fans out over the machine's cores.
Small runs (pre-commit's handful of files) stay in-process: a pool's start-up
would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from archlint.engine import Checker, Options
from archlint.rule import Finding, Rule

# Below this many files a pool does not pay for itself.
MIN_FILES_PER_WORKER = 24

_worker: Checker | None = None


def check_files(
    files: list[tuple[str, bool]],
    rules: list[Rule],
    options: Options,
    rule_dirs: list[str],
    jobs: int = 0,
) -> tuple[list[Finding], dict[str, set[str]], list[str]]:
    """All findings (sorted), the rules that ran per file, and the files checked."""
    workers = _workers(len(files), jobs)
    if any(path == "-" for path, _ in files):
        workers = 1  # standard input belongs to this process
    if workers <= 1:
        checker = Checker(rules, options)
        results = [_check(checker, path, explicit) for path, explicit in files]
    else:
        # Imported once here, so that forked workers share it instead of each
        # importing networkx and the rules again.
        import archlint.graph
        import archlint.rules  # noqa: F401

        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        chunk = max(1, len(files) // (workers * 4))
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init, initargs=(rule_dirs, options)
        ) as pool:
            results = list(pool.map(_check_in_worker, files, chunksize=chunk))
    findings: list[Finding] = []
    ran: dict[str, set[str]] = {}
    checked: list[str] = []
    for path, file_findings, file_ran in results:
        if file_findings is None:
            continue
        checked.append(path)
        findings.extend(file_findings)
        ran[path] = file_ran
    # A nested template checked with its parent and on its own reports once.
    unique = {(f.file, f.line, f.rule_id, f.resource, f.message): f for f in findings}
    findings = sorted(unique.values(), key=Finding.sort_key)
    return findings, ran, checked


def _workers(files: int, jobs: int) -> int:
    if jobs > 0:
        return min(jobs, max(files, 1))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, files // MIN_FILES_PER_WORKER))


def _check(checker: Checker, path: str, explicit: bool):
    findings = checker.check_path(path, explicit)
    return path, findings, checker.ran.get(path, set())


def _init(rule_dirs: list[str], options: Options) -> None:
    global _worker
    from archlint.registry import load_rules

    _worker = Checker(load_rules(rule_dirs), options)


def _check_in_worker(item: tuple[str, bool]):
    assert _worker is not None
    return _check(_worker, *item)
