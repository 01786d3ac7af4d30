"""memsim.jitcache: predicting whether numba will compile, checked against what numba then does.

Reference: numba's own dispatcher statistics. After :func:`uncached` predicts
"cached" or "not cached", the kernel is called and ``stats.cache_hits`` /
``stats.cache_misses`` record whether numba really loaded it from its cache or
compiled it. A tiny ``@njit(cache=True)`` function in a temporary module keeps
each compile well under a second; the CLI end to end (``memsim demo`` twice on
an empty cache) is the slow test at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = textwrap.dedent("""
    import json, sys
    import jitprobe
    from memsim.jitcache import uncached

    before = uncached(["jitprobe:twice"])
    jitprobe.twice(1.5)
    stats = jitprobe.twice.stats
    print(json.dumps({"before": before, "after": uncached(["jitprobe:twice"]),
                      "hits": sum(stats.cache_hits.values()), "misses": sum(stats.cache_misses.values())}))
""")


def _probe(src_dir, cache_dir) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(src_dir), ROOT, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=src_dir)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_uncached_agrees_with_numbas_cache(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "jitprobe.py").write_text("from numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    # empty cache: predicted uncached, numba compiles (a miss), then it is cached
    first = _probe(src, cache)
    assert first == {"before": ["jitprobe:twice"], "after": [], "hits": 0, "misses": 1}
    # a new process with the same cache: predicted cached, numba loads it (a hit)
    second = _probe(src, cache)
    assert second == {"before": [], "after": [], "hits": 1, "misses": 0}
    # the source changed (numba's stamp: mtime and size): the cache is stale, numba compiles again
    with open(src / "jitprobe.py", "a") as fh:
        fh.write("# edited\n")
    os.utime(src / "jitprobe.py", (1e9, 1e9))
    third = _probe(src, cache)
    assert third == {"before": ["jitprobe:twice"], "after": [], "hits": 0, "misses": 1}
    # another (empty) cache directory knows nothing of it
    other = tmp_path / "other"
    other.mkdir()
    assert _probe(src, other)["before"] == ["jitprobe:twice"]


def test_unknown_internals_count_as_cached():
    from memsim.jitcache import _is_cached

    assert _is_cached(object()) is True  # no notice rather than an error


def test_cli_prints_the_notice_only_when_compiling(monkeypatch, capsys, tmp_path):
    import memsim.jitcache as jc
    from memsim.cli import main

    argv = ["simulate", "--duration", "0.01", "--out", str(tmp_path / "s.png")]
    monkeypatch.setattr(jc, "uncached", lambda kernels: list(kernels))
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.err.startswith("memsim simulate: compiling numerical kernels (first run only, ~")
    assert "\n" not in cap.err.strip() and "numba compilation included" in cap.out
    monkeypatch.setattr(jc, "uncached", lambda kernels: [])
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.err == "" and "numba compilation included" not in cap.out


@pytest.mark.slow
def test_demo_says_it_compiles_on_an_empty_cache_only(tmp_path):
    # End to end with numba's real cache: a fresh NUMBA_CACHE_DIR is a fresh install.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), MPLBACKEND="Agg")
    argv = [sys.executable, "-m", "memsim.cli", "demo", "--copies", "2", "--max-eras", "1", "--no-progress",
            "--out", str(tmp_path / "d.png")]
    runs = [subprocess.run(argv, capture_output=True, text=True, env=env) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert runs[0].stderr.startswith("memsim demo: compiling numerical kernels (first run only")
    assert "compiling" not in runs[1].stderr
