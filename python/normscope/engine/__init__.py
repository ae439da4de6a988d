"""The process the extension/CLI starts (`python -m normscope.engine '<RunOptions JSON>'`, src/runner/pythonClient.ts):
speaks the worker event union of src/protocol as JSON lines on its control socket (lifetime.py)."""
