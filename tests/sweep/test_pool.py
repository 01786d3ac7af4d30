"""Shared process pools: reuse across calls, leases, replacement of a broken pool, shutdown, preload."""

from __future__ import annotations

import concurrent.futures as cf
import os
import subprocess
import sys
import time

import pytest

from memsim.sweep.pool import PRELOAD, close_pools, process_pool

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads worker states from /proc (Linux)")


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def loaded(names: list[str]) -> list[bool]:
    """Which modules the worker has imported before running anything that imports them."""
    return [n in sys.modules for n in names]


def die() -> None:
    os._exit(3)  # a worker crash, as a segfault or an out-of-memory kill would be


def alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def gone(pid: int, timeout: float = 20.0) -> bool:
    """The process exits within ``timeout`` seconds (a worker finishes its task and exits: ~0.1 s)."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_calls_share_the_workers_and_close_pools_ends_them():
    close_pools()
    with process_pool(2) as pool:
        first = {f.result() for f in [pool.submit(pid_after, 0.3) for _ in range(4)]}
    assert os.getpid() not in first and all(alive(pid) for pid in first)  # leaving `with` keeps them
    with process_pool(2) as pool:
        second = {f.result() for f in [pool.submit(pid_after, 0.3) for _ in range(4)]}
    assert second <= first  # the same processes ran the second call
    assert close_pools() == 1
    assert all(gone(pid) for pid in first)
    assert close_pools() == 0
    with process_pool(2) as pool:  # a new pool after closing
        assert pool.submit(pid_after, 0.0).result() not in first
    close_pools()


def test_a_lease_waits_for_and_cancels_only_its_own_calls():
    close_pools()
    a, b = process_pool(2), process_pool(2)
    slow = a.submit(pid_after, 1.0)
    b.submit(pid_after, 0.0).result()
    b.shutdown(wait=True)  # b's calls are done: returns although a's call still runs
    assert not slow.done()
    queued = [a.submit(pid_after, 1.0) for _ in range(6)]
    a.shutdown(wait=False, cancel_futures=True)
    assert any(f.cancelled() for f in queued)  # not yet started: cancelled, the pool stays up
    assert process_pool(2).submit(pid_after, 0.0).result() > 0
    close_pools()


def test_a_pool_whose_worker_died_is_replaced_at_the_next_submit():
    close_pools()
    with process_pool(2) as pool:
        with pytest.raises(cf.process.BrokenProcessPool):
            pool.submit(die).result()
        assert pool.submit(pid_after, 0.0).result() > 0  # same lease, a new pool
    with process_pool(2) as pool:
        assert pool.submit(pid_after, 0.0).result() > 0
    assert close_pools() == 1


def test_own_pool_and_validation():
    pool = process_pool(2, reuse=False)
    assert isinstance(pool, cf.ProcessPoolExecutor)
    with pool:
        pid = pool.submit(pid_after, 0.0).result()
    assert gone(pid)  # its shutdown ended its workers
    with pytest.raises(ValueError, match="reuse"):
        process_pool(2, reuse="yes")
    with pytest.raises(ValueError, match="start_method"):
        process_pool(2, start_method="nope")
    with pytest.raises(ValueError, match="workers"):
        process_pool(0)


@pytest.mark.skipif(sys.platform != "linux", reason="forkserver start method")
def test_workers_fork_with_the_co_design_stack_already_imported():
    # the fork server imports PRELOAD once; this test module imports none of it, so a worker that
    # has it loaded before its first task got it from the server (not by importing it itself)
    close_pools()
    names = [m for m in PRELOAD if m != "__main__"] + ["numba", "scipy.sparse"]
    with process_pool(2, start_method="forkserver") as pool:
        assert pool.submit(loaded, names).result() == [True] * len(names)
    close_pools()


@pytest.mark.parametrize("end", ["exit", "sigkill"])
def test_workers_of_a_shared_pool_end_with_the_script_that_started_it(tmp_path, end):
    # "exit": the pool is left open, the interpreter's exit ends it; "sigkill": no exit handler runs,
    # the workers notice that their parent has gone (pidfd) and exit by themselves
    script = tmp_path / "script.py"
    script.write_text(
        "import os, signal\n"
        "from memsim.sweep.pool import process_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = process_pool(2)\n"
        "    print(*sorted({f.result() for f in [pool.submit(os.getpid) for _ in range(8)]}), flush=True)\n"
        f"    if {end == 'sigkill'}:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == (-9 if end == "sigkill" else 0), out.stderr[-2000:]
    pids = [int(w) for w in out.stdout.split()]
    assert pids and all(gone(pid) for pid in pids)
