"""A fault-tolerant process pool for real-environment rollouts (no MPI).

Each worker is a spawned process that builds its rollout function ONCE (``factory()``: loads V and M, makes the
env) with TensorFlow limited to one thread, then serves tasks over its own pipe. The master hands out one task
(a batch of episodes, e.g. one candidate's 16) per idle worker and waits on the pipes and process sentinels:

- a task that returns normally is done;
- a worker whose process dies (crash, ``os._exit``, OOM kill) or that runs past ``timeout`` seconds on a task
  is killed, replaced by a fresh worker, and the task is queued again;
- a task that failed ``max_retries + 1`` times (or raised an exception max_retries + 1 times) makes :meth:`map`
  raise :class:`RolloutError`: a generation completes or fails loudly, it never hangs.

``factory`` must be picklable (a module-level function or ``functools.partial`` of one), because workers are
started with the ``spawn`` method (TensorFlow is not fork-safe).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Callable, Sequence

from common.threads import single_threaded_workers


class RolloutError(RuntimeError):
    """A rollout task failed more often than allowed; the generation cannot complete."""


def _worker_main(conn, factory: Callable[[], Callable[[Any], Any]]) -> None:
    single_threaded_workers()  # `workers` processes use `workers` cores
    try:
        fn = factory()
        conn.send(("ready", None))
    except BaseException:  # noqa: BLE001 - reported to the master, which fails loudly
        conn.send(("init_error", traceback.format_exc()))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        task_id, task = message
        try:
            conn.send(("ok", (task_id, fn(task))))
        except BaseException:  # noqa: BLE001
            conn.send(("error", (task_id, traceback.format_exc())))


class _Worker:
    def __init__(self, ctx, factory):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, factory), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.task: int | None = None
        self.started = 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


class WorkerPool:
    """``workers`` processes that each run ``factory()`` once, then map tasks with timeouts and retries.

    Args:
        factory: picklable zero-argument callable returning the rollout function ``fn(task) -> result``.
        workers: number of processes (one core each).
        timeout: seconds one task may run before its worker counts as hung.
        max_retries: times a task is retried after a crash, hang or exception.
        init_timeout: seconds a new worker may take to build its rollout function.
    """

    def __init__(self, factory: Callable[[], Callable[[Any], Any]], workers: int, timeout: float,
                 max_retries: int = 2, init_timeout: float = 600.0):
        self.factory, self.timeout, self.max_retries = factory, float(timeout), int(max_retries)
        self.init_timeout = float(init_timeout)
        self.ctx = mp.get_context("spawn")
        self.workers = [_Worker(self.ctx, factory) for _ in range(int(workers))]
        self.replaced = 0  # workers replaced after a crash or hang (for the log and tests)
        self.retried = 0

    def _replace(self, index: int) -> None:
        self.workers[index].kill()
        self.workers[index] = _Worker(self.ctx, self.factory)
        self.replaced += 1

    def map(self, tasks: Sequence[Any]) -> list[Any]:
        """Results of ``fn(task)`` for every task, in order. Raises RolloutError when a task keeps failing."""
        results: list[Any] = [None] * len(tasks)
        done = [False] * len(tasks)
        failures = [0] * len(tasks)
        queue = deque(range(len(tasks)))
        remaining = len(tasks)
        spawned_at = {id(w): time.monotonic() for w in self.workers}

        def fail(task_id: int, why: str) -> None:
            failures[task_id] += 1
            self.retried += 1
            if failures[task_id] > self.max_retries:
                raise RolloutError(f"rollout task {task_id} failed {failures[task_id]} times "
                                   f"(max_retries={self.max_retries}); last failure: {why}")
            print(f"[workers] task {task_id} {why.splitlines()[-1] if why else ''}; retrying "
                  f"({failures[task_id]}/{self.max_retries})", flush=True)
            queue.appendleft(task_id)

        while remaining:
            now = time.monotonic()
            for w in self.workers:  # hand out work
                if w.ready and w.task is None and queue:
                    w.task, w.started = queue.popleft(), now
                    w.conn.send((w.task, tasks[w.task]))
            handles = {}
            for i, w in enumerate(self.workers):
                handles[w.conn] = i
                handles[w.process.sentinel] = i
            deadlines = [w.started + self.timeout for w in self.workers if w.task is not None]
            deadlines += [spawned_at.get(id(w), now) + self.init_timeout for w in self.workers if not w.ready]
            wait_for = max(0.0, min(deadlines) - now) if deadlines else 1.0
            ready = wait(list(handles), timeout=min(wait_for, 5.0))
            for index in sorted({handles[r] for r in ready}):
                w = self.workers[index]
                try:
                    kind, payload = w.conn.recv() if w.conn.poll() else ("died", None)
                except (EOFError, OSError):
                    kind, payload = "died", None
                if kind == "ready":
                    w.ready = True
                elif kind == "ok":
                    task_id, value = payload
                    results[task_id], done[task_id] = value, True
                    remaining -= 1
                    w.task = None
                elif kind == "error":
                    task_id, why = payload
                    w.task = None
                    fail(task_id, f"raised: {why}")
                elif kind == "init_error":
                    raise RolloutError(f"a worker could not build its rollout function:\n{payload}")
                else:  # the process died
                    task_id = w.task
                    w.process.join(timeout=5)
                    code = w.process.exitcode
                    self._replace(index)
                    spawned_at[id(self.workers[index])] = time.monotonic()
                    if task_id is not None:
                        fail(task_id, f"worker died (exit code {code})")
            now = time.monotonic()
            for index, w in enumerate(self.workers):  # hung tasks and workers that never start
                if w.task is not None and now - w.started > self.timeout:
                    task_id = w.task
                    self._replace(index)
                    spawned_at[id(self.workers[index])] = now
                    fail(task_id, f"timed out after {self.timeout:.0f} s (worker replaced)")
                elif not w.ready and now - spawned_at.get(id(w), now) > self.init_timeout:
                    raise RolloutError(f"a worker did not start within {self.init_timeout:.0f} s")
        return results

    def close(self) -> None:
        for w in self.workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self.workers:
            w.process.join(timeout=5)
            w.kill()
        self.workers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------------------------
# Test hooks: synthetic rollout functions that misbehave on purpose (module-level so spawned workers can import).

def _synthetic(task, mode: str, marker_dir: str | None):
    """task = (params [k, N], seeds [k], negative_streak), one row per episode; each episode's return is
    -sum(params_row**2). ``mode`` "crash" / "hang" / "raise" misbehaves once per marker dir."""
    import numpy as np

    params, seeds, _ = task
    if mode != "none" and marker_dir is not None:
        marker = os.path.join(marker_dir, f"{mode}-done")
        try:  # O_EXCL: exactly one task misbehaves, even when two workers get here at the same time
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            first = True
        except FileExistsError:
            first = False
        if first:
            if mode == "crash":
                os._exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "raise":
                raise ValueError("injected failure")
    values = -np.sum(np.square(np.asarray(params, np.float64)), axis=-1)
    return [float(v) for v in np.broadcast_to(values, (len(seeds),))], [1] * len(seeds)


def synthetic_factory(mode: str = "none", marker_dir: str | None = None):
    """Rollout function for tests: ``(params [k, N], seeds [k], negative_streak) -> (returns [k], lengths [k])``; see
    :func:`_synthetic`."""
    import functools
    import numpy  # noqa: F401 - imported while the worker starts, not inside the first task's time limit

    return functools.partial(_synthetic, mode=mode, marker_dir=marker_dir)
