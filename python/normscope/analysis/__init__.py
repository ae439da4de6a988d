"""Static rules on PyTorch source with Python's own `ast` (`python -m normscope.analysis.lint`); no torch needed."""
