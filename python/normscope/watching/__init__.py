"""`normscope.watch(model, optimizer)`: NormScope's measurements in the user's own training run (docs/watch.md).
watcher.py: the Watcher (optimizer-step hooks, the run log); models.py: what is measured (DDP's .module, a compiled
module's original) and the models' names; patches.py: the process-wide hooks it needs (the loss
`backward()` is called on, GradScaler's skipped steps); sources.py: creation lines of modules built before watch();
distributed.py: DDP ranks combined exactly, once per sampled step."""

from .watcher import Watcher, watch

__all__ = ['Watcher', 'watch']
