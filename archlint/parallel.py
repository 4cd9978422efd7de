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
SAM_MARKER = b"AWS::Serverless-2016-10-31"


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
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init, initargs=(rule_dirs, options)
        ) as pool:
            batches = [pool.submit(_check_batch, batch) for batch in _batches(files, workers)]
            results = [result for batch in batches for result in batch.result()]
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


def _batches(files: list[tuple[str, bool]], workers: int) -> list[list[tuple[str, bool]]]:
    """Work for the pool: SAM templates first, all in one batch, then small batches.

    Expanding SAM needs the translator, a fifth of a second to import: one
    worker pays it while the others take the plain templates.
    """
    sam, plain = [], []
    for item in files:
        (sam if _mentions_sam(item[0]) else plain).append(item)
    size = max(1, len(plain) // (workers * 8))
    batches = [sam] if sam else []
    batches += [plain[i : i + size] for i in range(0, len(plain), size)]
    return batches


def _mentions_sam(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return SAM_MARKER in handle.read()
    except OSError:
        return False


def _check(checker: Checker, path: str, explicit: bool):
    findings = checker.check_path(path, explicit)
    return path, findings, checker.ran.get(path, set())


def _init(rule_dirs: list[str], options: Options) -> None:
    global _worker
    from archlint.registry import load_rules

    _worker = Checker(load_rules(rule_dirs), options)


def _check_batch(batch: list[tuple[str, bool]]):
    assert _worker is not None
    return [_check(_worker, *item) for item in batch]
