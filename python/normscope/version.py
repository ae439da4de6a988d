"""The package's version, in a module of its own: the run-log writer records it, and importing the package root from
there would close a circle (normscope → watching → runlog.writer → normscope)."""

__version__ = '0.1.0'  # package.json's version (test/unit/runlog-python.test.ts compares them)
