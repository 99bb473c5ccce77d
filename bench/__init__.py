"""trendstream benchmarks: ``python -m bench`` (``make bench``) prints one table of figures.

Each benchmark module exposes a function returning :class:`bench.figures.Figure` rows; the
naive baselines the figures are compared with live in :mod:`bench.naive`. Nothing here passes
or fails on time: a figure that misses its goal is printed as missed, never raised.
"""
