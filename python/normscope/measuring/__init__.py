"""Measuring every layer at every step: the Meter (meter.py), its hooks in C (native.py builds hooks.c and
fused_stats.c from this folder), the statistics' layout (stats_math.py) and where each layer was created."""
