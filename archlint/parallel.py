"""Checking many files: in this process, or in a pool of worker processes.

Templates are independent, so a large run fans out over the machine's cores.
Small runs (pre-commit's handful of files) stay in-process: a pool's start-up
would cost more than it saves.

One file never aborts the run. An exception while checking it (RecursionError,
ValueError, MemoryError) becomes that file's AL000 finding, in a worker or in
this process. A worker that dies outright (killed, out of memory) breaks the
pool: every worker marks in shared memory which file it is at and in which
stage, the files that were in flight are checked again one by one, each in a
process of its own, and one that kills its process again becomes an AL000
finding naming the file and the stage; the other files are checked in a new
pool. Ctrl-C (SIGINT) kills the workers at once: workers ignore SIGINT, the
parent kills them and the CLI exits 130.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any

from archlint import builtin
from archlint.engine import Checker, Options, read
from archlint.rule import Finding, Rule

# Below this many files a pool does not pay for itself.
MIN_FILES_PER_WORKER = 24
SAM_MARKER = b"AWS::Serverless-2016-10-31"

# Test-only fault injection, set only by archlint's own tests: the basename of
# a file at which a *worker process* dies (`kill:NAME`, SIGKILL to itself) or
# raises (`memory:NAME`, MemoryError). An environment variable: nothing in a
# template or a config file can reach it.
FAULT_ENV = "ARCHLINT_TEST_WORKER_FAULT"

# What a file's slot in the shared progress array holds.
PENDING, READING, CHECKING, DONE = 0, 1, 2, 3
STAGES = {PENDING: "waiting", READING: "reading", CHECKING: "loading and checking", DONE: "done"}

Item = tuple[int, str, bool]  # index in the run, path, explicitly named
Result = tuple[str, "list[Finding] | None", set]
Progress = Any  # a multiprocessing.Array of one stage per file, shared with the workers

_worker: Checker | None = None
_progress: Progress = None  # the shared array, in worker processes


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
        results = _in_pool(files, workers, rule_dirs, options)
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


# -- one file -------------------------------------------------------------------


def _check(checker: Checker, path: str, explicit: bool, index: int | None = None) -> Result:
    """One file's findings; an exception while checking it is its AL000 finding."""
    stage = READING
    try:
        _mark(index, READING)
        try:
            data = read(path)
        except OSError:
            findings = checker.check_path(path, explicit)  # the engine reports it
        else:
            stage = CHECKING
            _mark(index, CHECKING)
            _injected_fault(path)
            findings = checker.check_bytes(path, data, explicit)
    except Exception as error:  # one template must not abort the run
        findings = [internal_failure(path, stage, f"{type(error).__name__}: {error}")]
    _mark(index, DONE)
    return path, findings, checker.ran.get(path, set())


def internal_failure(path: str, stage: int, what: str) -> Finding:
    rule = builtin.RULE_ERROR
    return Finding(
        rule.code,
        rule.name,
        rule.requirement,
        rule.severity,
        path,
        None,
        None,
        f"archlint failed on this file while {STAGES[stage]} it: {what}; "
        "the file is not checked, the other files are",
        rule.fix,
    )


def _mark(index: int | None, stage: int) -> None:
    if index is not None and _progress is not None:
        _progress[index] = stage


def _injected_fault(path: str) -> None:
    fault = os.environ.get(FAULT_ENV)
    if not fault or _progress is None:  # only ever in a worker process
        return
    kind, _, name = fault.partition(":")
    if os.path.basename(path) != name:
        return
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "memory":
        raise MemoryError("injected by " + FAULT_ENV)


# -- the pool ---------------------------------------------------------------------


def _in_pool(
    files: list[tuple[str, bool]], workers: int, rule_dirs: list[str], options: Options
) -> list[Result]:
    # Imported once here, so that forked workers share it instead of each
    # importing networkx and the rules again.
    import archlint.graph
    import archlint.rules  # noqa: F401

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    progress = context.Array("b", max(len(files), 1), lock=False)
    results: dict[int, Result] = {}
    todo: list[Item] = [(i, path, explicit) for i, (path, explicit) in enumerate(files)]
    while todo:
        suspects = _run_pool(todo, workers, context, progress, rule_dirs, options, results)
        for item in suspects:  # in flight when a worker died: each alone
            results[item[0]] = _isolated(item, context, progress, rule_dirs, options)
        todo = [item for item in todo if item[0] not in results]
    return [results[i] for i in range(len(files))]


def _run_pool(
    todo: list[Item],
    workers: int,
    context: BaseContext,
    progress: Progress,
    rule_dirs: list[str],
    options: Options,
    results: dict[int, Result],
) -> list[Item]:
    """Check `todo` in a pool, filling `results`; if a worker died, the files to isolate."""
    for index, _, _ in todo:
        progress[index] = PENDING
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=(rule_dirs, options, progress)
    )
    broken = False
    try:
        batches = [(batch, pool.submit(_check_batch, batch)) for batch in _batches(todo, workers)]
        for batch, future in batches:
            try:
                for item, result in zip(batch, future.result(), strict=True):
                    results[item[0]] = result
            except BrokenProcessPool:
                broken = True
            except Exception as error:  # a result that cannot travel back, say
                for item in batch:
                    results[item[0]] = _failed(item, progress, f"{type(error).__name__}: {error}")
    except BaseException:  # Ctrl-C: no worker outlives the run
        _kill(pool)
        raise
    if not broken:
        pool.shutdown()
        return []
    _kill(pool)
    left = [item for item in todo if item[0] not in results]
    in_flight = [item for item in left if progress[item[0]] in (READING, CHECKING)]
    # No file in flight (a worker died starting up): each file alone, which ends.
    return in_flight or left


def _failed(item: Item, progress: Progress, what: str) -> Result:
    index, path, _ = item
    return path, [internal_failure(path, progress[index] or READING, what)], set()


def _kill(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now, and let its manager thread wind down.

    The executor keeps its processes and manager thread private; both are
    stable across CPython 3.8-3.13, and without them a pool stops only after
    its running batches end.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(1)
    # Before the interpreter exits: its exit hook wakes the manager thread,
    # which races with the thread closing its wake-up pipe (EBADF noise).
    if manager is not None:
        manager.join(2)


def _isolated(
    item: Item, context: BaseContext, progress: Progress, rule_dirs: list[str], options: Options
) -> Result:
    """Check one file in a process of its own; its death is the file's AL000 finding."""
    progress[item[0]] = PENDING
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_isolated_main, args=(sender, item, rule_dirs, options, progress), daemon=True
    )
    process.start()
    sender.close()
    try:
        try:
            result = receiver.recv()
        except EOFError:  # it died before sending
            result = None
        process.join()
    finally:
        if process.is_alive():
            process.kill()
            process.join(1)
        receiver.close()
    if result is not None:
        return result
    code = process.exitcode
    if code is not None and code < 0:
        how = f"its worker process was killed by {signal.Signals(-code).name}"
    else:
        how = f"its worker process exited with status {code}"
    return _failed(item, progress, how)


def _isolated_main(
    sender: Any, item: Item, rule_dirs: list[str], options: Options, progress: Progress
) -> None:
    _init(rule_dirs, options, progress)
    assert _worker is not None
    sender.send(_check(_worker, item[1], item[2], item[0]))
    sender.close()


def _batches(files: list[Item], workers: int) -> list[list[Item]]:
    """Work for the pool: SAM templates first, all in one batch, then small batches.

    Expanding SAM needs the translator, a fifth of a second to import: one
    worker pays it while the others take the plain templates.
    """
    sam, plain = [], []
    for item in files:
        (sam if _mentions_sam(item[1]) else plain).append(item)
    size = max(1, len(plain) // (workers * 8))
    batches = [sam] if sam else []
    batches += [plain[i : i + size] for i in range(0, len(plain), size)]
    return batches


def _mentions_sam(path: str) -> bool:
    try:
        return SAM_MARKER in read(path)  # regular files only, bounded
    except OSError:
        return False


def _init(rule_dirs: list[str], options: Options, progress: Progress = None) -> None:
    global _worker, _progress
    # Ctrl-C reaches the whole process group: the parent alone decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from archlint.registry import load_rules

    _progress = progress
    _worker = Checker(load_rules(rule_dirs), options)


def _check_batch(batch: list[Item]) -> list[Result]:
    assert _worker is not None
    return [_check(_worker, path, explicit, index) for index, path, explicit in batch]
