"""Doctest collection here needs JAX (the optional extra ``memsim[jax]``): skipped without it."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("jax") else ["surrogate.py"]
