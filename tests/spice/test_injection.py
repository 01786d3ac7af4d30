"""Netlist injection (issue 13): no user string may add a line to a netlist.

A title with a newline followed by ``.control`` / ``shell`` lines used to be written verbatim and
run by ngspice. Node names, labels and titles are user strings; only title and output reach the text.
"""

import pytest

from memsim import LinearIonDrift, Network, Segment
from memsim.spice import to_spice

EVIL = "x\n.control\nshell touch /tmp/memsim-pwned\n.endc\n"


def _net(name_a="a", name_b="b"):
    net = Network(default_device=LinearIonDrift(window="joglekar"))
    net.add_node(name_a, "input")
    net.add_node(name_b, "output")
    net.add_edge(name_a, name_b, x0=0.3)
    return net


def _control_lines(text):
    return [ln for ln in text.splitlines() if ln.strip().lower().startswith((".control", "shell", ".endc"))]


def test_plain_netlist_has_one_control_block_and_no_shell():
    text = to_spice(_net(), Segment(1e-3, drive={"a": 0.5}, ground=["b"]), dt=1e-4, title="ok title")
    assert _control_lines(text) == [".control", ".endc"]
    assert text.splitlines()[0].startswith("* ok title")


@pytest.mark.parametrize("title", [EVIL, "a\rb", "tab\there", "nul\x00", "x" * 500, "line\u2028sep"])
def test_titles_that_could_add_lines_are_refused(title):
    with pytest.raises(ValueError, match="title must be one line"):
        to_spice(_net(), Segment(1e-3, drive={"a": 0.5}, ground=["b"]), dt=1e-4, title=title)


@pytest.mark.parametrize("output", ["a b", "x\nshell ls", "o;rm", "'q'", "-x", ""])
def test_output_names_that_could_break_the_control_line_are_refused(output):
    with pytest.raises(ValueError, match="output must be a file name"):
        to_spice(_net(), Segment(1e-3, drive={"a": 0.5}, ground=["b"]), dt=1e-4, output=output)


def test_node_names_and_labels_never_reach_the_netlist():
    net = _net(EVIL, "b\n.endc\nshell rm -rf ~")
    seg = Segment(1e-3, drive={EVIL: 0.5}, ground=["b\n.endc\nshell rm -rf ~"], label=EVIL)
    text = to_spice(net, seg, dt=1e-4)
    assert _control_lines(text) == [".control", ".endc"]
    assert "shell" not in text and "pwned" not in text
