"""Without JAX: the core and memsim.snn import; the JAX modules fail with one line naming the extra."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
sys.modules["jax"] = None  # as if JAX were not installed
import memsim, memsim.snn, memsim.datasets.fewshot, memsim.arrays
for mod in ("memsim.snn.surrogate", "memsim.meta"):
    try:
        __import__(mod)
    except ImportError as err:
        print(str(err))
    else:
        print("imported", mod)
"""


def test_missing_jax_gives_one_line_naming_the_extra():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert 'pip install "memsim[jax]"' in line, line
