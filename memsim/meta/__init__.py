"""Meta-learning spiking networks: MAML, first-order MAML and Reptile (JAX), memristive deployment.

- :mod:`~memsim.meta.maml`: :class:`MAMLConfig`, :func:`meta_gradient`,
  :func:`meta_train`, :func:`evaluate` (software inner loop, float or
  quantised updates);
- :mod:`~memsim.meta.deploy`: :func:`deploy`, the inner loop written to
  :mod:`memsim.arrays` arrays as pulses.

The networks are those of :mod:`memsim.snn.surrogate`; the tasks come from
:mod:`memsim.datasets.fewshot`. Needs the optional extra: ``pip install "memsim[jax]"``.
"""

from memsim.meta.deploy import Deployment, deploy, layer_matrix, matrix_params
from memsim.meta.maml import (
    MAMLConfig,
    MetaResult,
    adapt,
    evaluate,
    init_meta,
    meta_gradient,
    meta_train,
    quantise_update,
    task_objective,
)

__all__ = [
    "MAMLConfig",
    "MetaResult",
    "adapt",
    "evaluate",
    "init_meta",
    "meta_gradient",
    "meta_train",
    "quantise_update",
    "task_objective",
    "Deployment",
    "deploy",
    "layer_matrix",
    "matrix_params",
]
