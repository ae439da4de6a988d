"""Rewrites of a user's source: swapping the normalization on one line (`python -m normscope.refactor.swap`)."""
