"""Local learning rules and the mushroom body, with plastic weights in synapse arrays (DESIGN.md section 6).

Examples
--------
>>> from memsim.plasticity import Delta, MushroomBody
>>> Delta(lr=0.1).lr, MushroomBody(n_inputs=784).fan
(0.1, 78)
"""

from memsim.plasticity.mushroom import MushroomBody, Trained, dense_code, evaluate, kenyon_code, projection, train
from memsim.plasticity.rules import (
    BCM,
    RULES,
    AntiHebbian,
    Delta,
    Hebbian,
    HebbianDecay,
    Oja,
    Rule,
    delta_w,
    initial_rule_state,
    signals,
)

__all__ = [
    "Rule",
    "Hebbian",
    "HebbianDecay",
    "Oja",
    "BCM",
    "Delta",
    "AntiHebbian",
    "RULES",
    "signals",
    "delta_w",
    "initial_rule_state",
    "MushroomBody",
    "projection",
    "kenyon_code",
    "dense_code",
    "train",
    "evaluate",
    "Trained",
]
