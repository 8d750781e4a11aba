"""Run the per-member phase of a draw on several cores (forked workers).

The draw engine (:mod:`sunshine.draw`) is pure: no processes, no I/O. Its :func:`draw.select`
accepts a ``starmap`` callable and splits the pool into parts; this module supplies one that forks.
:func:`fork_starmap` runs the first part in the calling process and each other part in a child made
by ``os.fork()``: the child inherits the labels (nothing is pickled on the way in) and sends back
only its part's result, for a draw the few tickets below the selection bound of each stratum, about
a megabyte instead of 32 MB of tickets. The outcome is byte-identical to the one-process draw (the
tests run both on the same inputs and on the shared vectors).

:func:`compute` and :func:`recompute` are the draw's entry points with that starmap: they use it only
for pools of at least :data:`FORK_MIN` members, when ``os.fork`` exists, more than one CPU is usable
and the process has a single thread (forking a threaded process can deadlock the child); otherwise
they compute in one process, with the same result.

The cyclic garbage collector is paused during :func:`compute` (as ``verify`` does): the draw makes
next to no cyclic garbage, and its many new objects would otherwise trigger full collections over
everything the calling process holds.

A child that fails to deliver (killed, out of memory) costs time, not correctness: its part is
computed again in the calling process. An exception raised by the work itself in a child (e.g. a
:class:`~sunshine.errors.DrawError`) is raised again in the caller.
"""

from __future__ import annotations

import gc
import os
import pickle
import threading

from . import draw

FORK_MIN = 100_000  # a fork of a large process costs a few milliseconds; 100,000 tickets ~0.1 s


def usable_cpus() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether :func:`fork_starmap` really forks here (POSIX fork and a single-threaded process)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _child(func, args, wfd: int) -> None:
    """In the forked child: run ``func(*args)``, write the pickled result, and leave without cleanup."""
    code = 0
    try:
        gc.disable()  # no collection passes touching (and so copying) the parent's pages
        try:
            payload = pickle.dumps((True, func(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as e:  # noqa: BLE001 - shipped back to the parent, raised there
            try:
                payload = pickle.dumps((False, e), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that does not pickle
                payload = pickle.dumps((False, RuntimeError(f"{type(e).__name__}: {e}")))
        view = memoryview(payload)
        while view:
            view = view[os.write(wfd, view):]
    except BaseException:  # noqa: BLE001 - never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def fork_starmap(func, arglist) -> list:
    """``[func(*args) for args in arglist]``, the first in this process and the others in forked children.

    Falls back to computing everything here when forking is not possible (:func:`can_fork`).
    """
    arglist = list(arglist)
    if len(arglist) < 2 or not can_fork():
        return [func(*a) for a in arglist]
    children = []  # (pid, read fd, args), in arglist order
    try:
        for args in arglist[1:]:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                os.close(r)
                _child(func, args, w)
            os.close(w)
            children.append((pid, r, args))
        results = [func(*arglist[0])]
        while children:
            pid, r, args = children[0]
            data = _read_all(r)
            os.close(r)
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            ok, value = False, None
            if os.waitstatus_to_exitcode(status) == 0 and data:
                try:
                    ok, value = pickle.loads(data)
                except Exception:  # noqa: BLE001 - a truncated result: computed again below
                    ok, value = False, None
                if not ok and isinstance(value, BaseException):
                    raise value
            results.append(value if ok else func(*args))
        return results
    finally:  # something raised: leave no child behind (a child writing to a closed pipe exits)
        for pid, r, _ in children:
            os.close(r)
            os.waitpid(pid, 0)


def processes(c: draw.Commitment, workers: int | None = None) -> int:
    """How many processes :func:`compute` uses for ``c``: ``workers`` (default: every usable CPU) for a
    pool of :data:`FORK_MIN` members or more where forking is possible, otherwise 1."""
    workers = usable_cpus() if workers is None else workers
    if workers < 2 or len(c.labels) < FORK_MIN or not can_fork():
        return 1
    return workers


def compute(c: draw.Commitment, values: draw.RandomnessValues, *, opening: dict | None = None, workers: int | None = None) -> draw.DrawOutcome:
    """:func:`draw.compute`, with the tickets of large pools on ``workers`` processes (default: every usable CPU)."""
    parts = processes(c, workers)
    # the draw makes next to no cyclic garbage, but its 100,000s of new objects would make the cyclic
    # collector rescan everything the process holds (a loaded Dataset: millions of objects); pause it
    paused = gc.isenabled()
    gc.disable()
    try:
        return draw.compute(c, values, opening=opening, starmap=fork_starmap if parts > 1 else None, chunks=parts)
    finally:
        if paused:
            gc.enable()


def recompute(
    commit_body: dict,
    randomness_body: dict,
    get_blob: draw.GetBlob,
    *,
    list_reveal: dict | None = None,
    opening: dict | None = None,
    allow_test_chain: bool = False,
    workers: int | None = None,
) -> draw.DrawOutcome:
    """:func:`draw.recompute`, with the tickets of large pools on several processes (see :func:`compute`)."""
    c = draw.load_commitment(commit_body, get_blob)
    values = draw.load_randomness(c, randomness_body, list_reveal=list_reveal, allow_test_chain=allow_test_chain)
    return compute(c, values, opening=opening, workers=workers)
