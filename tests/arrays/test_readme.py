"""The README's synapse-array example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_arrays_example_runs():
    text = README.read_text()
    section = text[text.index("## Synapse arrays"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    # what the comments claim: the state is a plain (64, 20) array, and the update achieved a change
    assert namespace["initial_state"](namespace["arr"]).shape == (64, 20)
    assert namespace["y"].shape == (32, 10)
    assert 0.0 < namespace["upd"].achieved.mean() < 0.05
