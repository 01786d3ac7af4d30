"""Spiking networks."""
