"""The README's "From measurements to capacity" example runs as written and says what it shows."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"


def maker():
    spec = importlib.util.spec_from_file_location("make_vteam_sweep", DATA / "make_vteam_sweep.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_stored_measurement_is_what_its_script_writes():
    # the example's data file is tied to its recipe (header included): regenerated with memsim.simulate
    # and the same seed, it is the same text to the 10 digits written
    assert (DATA / "vteam-sweep.csv").read_text() == maker().make()


def test_readme_fit_example_runs(monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## From measurements to capacity"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)  # the example reads examples/data/ from the repository root
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    fitted, truth = namespace["fitted"], maker()
    # "the header's values": each within 3 standard errors of the truth the file was made with
    assert fitted.success and lines[0] == repr(fitted)
    for name, value in fitted.params.items():
        true = truth.X0 if name == "x0" else getattr(truth.TRUE, name)
        assert abs(value - true) < 3 * fitted.stderr[name], name
    # "True 3": the uniform baseline is degenerate, rank n_in + n_out - 1 of 16 (n_in = n_out)
    assert lines[1] == "True 3"
    # random states break the symmetry: more directions steerable, full io rank 4 = n_in * n_out
    rank, io_rank = map(int, lines[2].split())
    assert 3 < rank <= 16 and io_rank == 4
    # two inputs: association sets of p = 1 and 2 patterns, the capacity one of 0, 1, 2
    assert re.fullmatch(r"CapacityResult\(capacity=[012], mean_learnable=[012]\.\d\d, p tested 1\.\.[12] of 2, "
                        r"stopped_early=(True|False)\)", lines[3]), lines[3]
