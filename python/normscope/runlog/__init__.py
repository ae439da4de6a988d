"""The run-log writer (docs/run-log.md): append-only, crash-safe, bounded; the same files as src/runlog/writer.ts."""
