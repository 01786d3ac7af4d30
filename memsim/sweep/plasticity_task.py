"""Sweep/search task: a mushroom body with a plastic readout, trained online and scored.

``mushroom_body(point)`` reads its configuration from the point (all optional but ``rule``):

========================  =====================================================================
key                       meaning (default)
========================  =====================================================================
``dataset``               ``"fashion-mnist"``, ``"digits"`` or ``"mnist1d"`` (``"digits"``)
``n_train``               training samples used, the first of the seeded split (all)
``rule``                  a name of :data:`memsim.plasticity.RULES`
``lr``, ``decay``,        the rule's hyperparameters (its defaults); keys another rule does not
``tau``, ``temperature``  take are ignored
``n_kc``, ``sparsity``,   Kenyon cells (2000), active fraction (0.05), inputs per cell as a
``fan_in``                fraction of the inputs (0.1), ``inhibition`` ("kwta")
``device``                ``"ideal"`` (float weights) or a synapse preset ("rpu", "gms", "vteam")
``bits``                  magnitude bits of each update (None)
``batch``                 samples per update (1)
``seed``                  the projection's and the pulses' seed
``split``                 scored on ``"validation"`` (default) or ``"test"``
========================  =====================================================================

Returns ``accuracy`` (on the split), ``online_accuracy`` and ``train_s``. The dataset and the
Kenyon-cell code are cached per process.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from memsim.arrays import IdealArray, UpdatePolicy, preset_array
from memsim.datasets import load
from memsim.plasticity import RULES, MushroomBody, evaluate, kenyon_code, train

__all__ = ["mushroom_body"]

_KNOWN = {"dataset", "n_train", "rule", "lr", "decay", "tau", "temperature", "n_kc", "sparsity", "fan_in",
          "inhibition", "device", "bits", "batch", "seed", "split"}


@functools.lru_cache(maxsize=4)
def _data(name: str):
    return load(name, seed=0)


@functools.lru_cache(maxsize=8)
def _codes(name: str, mb: MushroomBody, n_train: int | None):
    d = _data(name)
    x = d.x_train if n_train is None else d.x_train[:n_train]
    return kenyon_code(mb, x), kenyon_code(mb, d.x_val), kenyon_code(mb, d.x_test)


def mushroom_body(point: Mapping[str, Any]) -> dict[str, Any]:
    """Train a mushroom body online on one configuration and score it (module docstring).

    Examples
    --------
    >>> out = mushroom_body({"dataset": "digits", "rule": "delta", "lr": 0.3, "n_kc": 300, "sparsity": 0.1})
    >>> bool(out["accuracy"] > 0.7)
    True
    """
    unknown = set(point) - _KNOWN
    if unknown:
        raise ValueError(f"mushroom_body: unknown parameters {sorted(unknown)}")
    name = point.get("rule")
    if name not in RULES:
        raise ValueError(f"mushroom_body: rule must be one of {sorted(RULES)}, got {name!r}")
    cls = RULES[name]
    hp = {k: point[k] for k in ("lr", "decay", "tau", "temperature") if k in point
          and k in cls.__dataclass_fields__}
    rule = cls(**hp)
    dataset = point.get("dataset", "digits")
    d = _data(dataset)
    seed = int(point.get("seed", 0))
    fan = max(1, round(float(point.get("fan_in", 0.1)) * d.n_features))
    mb = MushroomBody(n_inputs=d.n_features, n_kc=int(point.get("n_kc", 2000)), n_outputs=d.n_classes,
                      fan_in=fan, sparsity=float(point.get("sparsity", 0.05)),
                      inhibition=point.get("inhibition", "kwta"), seed=seed)
    n_train = point.get("n_train")
    n_train = None if n_train is None else int(n_train)
    code, cval, ctest = _codes(dataset, mb, n_train)
    device = point.get("device", "ideal")
    array = IdealArray(mb.n_kc, mb.n_outputs) if device == "ideal" else preset_array(device, mb.n_kc, mb.n_outputs,
                                                                                       seed=seed)
    bits = point.get("bits")
    policy = None if device == "ideal" and bits is None else UpdatePolicy(bits=None if bits is None else int(bits))
    y = d.y_train if n_train is None else d.y_train[:n_train]
    t0 = time.perf_counter()
    out = train(mb, d.x_train[: y.size], y, rule, array, code=code, batch=int(point.get("batch", 1)), policy=policy,
                seed=seed)
    train_s = time.perf_counter() - t0
    split = point.get("split", "validation")
    if split not in ("validation", "test"):
        raise ValueError(f"mushroom_body: split must be 'validation' or 'test', got {split!r}")
    xs, ys, cs = (d.x_val, d.y_val, cval) if split == "validation" else (d.x_test, d.y_test, ctest)
    acc = evaluate(mb, array, out.state, xs, ys, code=cs, seed=seed)
    return {"accuracy": acc, "online_accuracy": out.online_accuracy, "train_s": train_s}
