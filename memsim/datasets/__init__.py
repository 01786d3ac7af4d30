"""Offline datasets: few-shot double-image tasks and event streams by simulated saccades."""
