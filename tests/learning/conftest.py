"""Shared fixtures of the learning tests."""

from __future__ import annotations

import pytest

from memsim import VTEAM, Network, layered


@pytest.fixture(scope="session")
def net242() -> Network:
    """The paper's 2-4-2 network of published-parameter VTEAM devices, oriented for the controller."""
    return Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
