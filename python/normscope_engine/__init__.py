"""NormScope's engine for PyTorch models: started by the extension/CLI (src/runner/pythonClient.ts) with the
user's interpreter; speaks the worker event union of src/protocol as JSON lines on its control socket (lifetime.py)."""

__version__ = '0.1.0'  # package.json's version (test/unit/runlog-python.test.ts compares them)
