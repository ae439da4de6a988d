"""`normscope run train.py [-- args]`: the user's own PyTorch training script runs as `__main__` with its argv (cwd is
the caller's), on its own data (its DataLoader), and its optimizer steps are measured.
Every optimizer gets its `step` replaced on the instance (a bound method, so LR schedulers can still wrap it).
The first step finds the model — the module built in the user's files whose parameters the optimizer trains —
and installs the meter; measuring starts with the next forward pass, so step 0 of the report is the script's
second optimizer step. The loss is the last tensor `backward()` was called on. After `steps` measured steps
(or when the script ends) the script is stopped with a BaseException its `except Exception` cannot swallow."""
import math
import os
import runpy
import sys
import time
import types
import weakref
from collections import deque

import torch

from . import creation
from .errors import UserError, from_exception
from .measure import STAT_NAMES, Meter
from .run import _layer_infos, _leaves


class _Stop(BaseException):
    """Ends the user's script: step limit reached or cancelled."""


class ScriptRun:
    def __init__(self, path, steps, interval, cancelled, emit, run_id):
        self.path, self.steps, self.interval, self.cancelled, self.emit, self.run_id = path, steps, interval, cancelled, emit, run_id
        self.built = weakref.WeakSet()  # every nn.Module built in the user's files
        self.optimizer = None
        self.model = None
        self.meter = None
        self.batch_size = None
        self.last_loss = None
        self.losses, self.samples, self.step_ms = [], [], []
        self.step_started = None
        self.stopped = None

    # -- patches ---------------------------------------------------------------------------------------------------
    def install(self):
        run = self
        original_init = torch.nn.Module.__init__

        def init(module, *args, **kwargs):
            original_init(module, *args, **kwargs)
            if creation.source_of(module) is not None:
                run.built.add(module)
        torch.nn.Module.__init__ = init

        original_opt_init = torch.optim.Optimizer.__init__

        def opt_init(opt, *args, **kwargs):
            original_opt_init(opt, *args, **kwargs)
            opt.step = types.MethodType(_measured_step, opt)
        torch.optim.Optimizer.__init__ = opt_init

        def _measured_step(opt, *args, **kwargs):
            return run.on_step(opt, lambda: type(opt).step(opt, *args, **kwargs))

        original_backward = torch.Tensor.backward

        def backward(tensor, *args, **kwargs):
            if tensor.numel() == 1:
                run.last_loss = tensor.detach()
            return original_backward(tensor, *args, **kwargs)
        torch.Tensor.backward = backward

    def _find_model(self, opt):
        params = {id(p) for g in opt.param_groups for p in g['params']}
        roots = [m for m in self.built if not any(m is not o and any(c is m for c in o.modules()) for o in self.built)]
        scored = [(len(params & {id(p) for p in m.parameters()}), m) for m in roots]
        best = max(scored, key=lambda s: s[0], default=(0, None))
        if best[0] == 0:
            raise UserError('no-model', f'{os.path.basename(self.path)}: the optimizer steps, but trains no nn.Module built in '
                            'your files; NormScope measures modules whose classes or layers your code constructs', self.path)
        return best[1]

    # -- the step --------------------------------------------------------------------------------------------------
    def on_step(self, opt, real_step):
        if self.optimizer is None:
            self.optimizer = opt
            self.model = self._find_model(opt)
            self.model.register_forward_pre_hook(self._batch)
            self.meter = Meter(_leaves(self.model))
            result = real_step()
            self._arm(0)
            return result
        if opt is not self.optimizer:
            return real_step()  # a second optimizer (a GAN's other network): not measured
        step = len(self.losses)
        sampling = self.meter.sampling
        if sampling:
            self.meter.after_backward()
        result = real_step()
        ms = (time.perf_counter() - self.step_started) * 1000 if self.step_started else 0.0
        loss = self.last_loss.item() if self.last_loss is not None else float('nan')
        self.losses.append(loss if math.isfinite(loss) else None)
        self.step_ms.append(ms)
        if sampling:
            self.meter.after_step()
            self.meter.sampling = False
            if not self.samples:
                self.emit({'type': 'layers', 'runId': self.run_id, 'file': self.path, 'layers': _layer_infos(self.meter),
                           'statNames': STAT_NAMES, 'steps': self.steps or 0, 'batchSize': self.batch_size or 0, 'syntheticData': False})
            sample = {'step': step, 'loss': self.losses[-1], 'stepMs': ms, 'values': self.meter.finish()}
            self.samples.append(sample)
            self.emit({'type': 'progress', 'runId': self.run_id, 'samples': [sample]})
        if not math.isfinite(loss):
            self.stopped = f'non-finite loss at step {step}'
        elif self.cancelled():
            self.stopped = 'cancelled'
        elif self.steps is not None and len(self.losses) >= self.steps:
            self.stopped = 'steps'
        if self.stopped:
            raise _Stop()
        self._arm(step + 1)
        return result

    def _arm(self, step):
        """Measure the next forward/backward when `step` is a sampled one."""
        self.meter.sampling = step % self.interval == 0
        self.step_started = time.perf_counter()

    def _batch(self, module, inputs):
        x = next((t for t in inputs if isinstance(t, torch.Tensor)), None)
        if self.batch_size is None and x is not None and x.dim() > 0:
            self.batch_size = int(x.shape[0])


class _StderrTail:
    """sys.stderr that keeps its last lines: why a script exited (argparse's usage error) goes into the error."""

    def __init__(self, stream):
        self.stream, self.lines = stream, deque(maxlen=4)

    def write(self, text):
        self.lines.extend(line for line in text.splitlines() if line.strip())
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def run_script(options, emit, cancelled):
    """Runs the script; returns (ScriptRun, notes) for the report."""
    path = os.path.abspath(options['file'])
    script = options['script']
    steps = None if script.get('untilDone') else int(options.get('steps', 50))
    torch.manual_seed(options.get('seed', 42))
    creation.install(path)
    run = ScriptRun(path, steps, max(1, int(options.get('samplingInterval', 1))), cancelled, emit, options.get('runId', 'py'))
    run.install()
    sys.argv = [path, *script.get('args', [])]
    sys.stderr = tail = _StderrTail(sys.stderr)
    sys.path.insert(0, os.path.dirname(path))
    emit({'type': 'backend', 'runId': run.run_id, 'backend': {'name': 'cpu', 'notes': [f'PyTorch {torch.__version__} on CPU, training script {os.path.basename(path)}']}})
    try:
        runpy.run_path(path, run_name='__main__')
    except _Stop:
        pass
    except SystemExit as e:
        if e.code not in (None, 0):
            said = ':\n' + '\n'.join(tail.lines) if tail.lines else ''
            raise UserError('script-exit', f'{os.path.basename(path)} exited with code {e.code} before training finished '
                            f'(its arguments: {" ".join(script.get("args", [])) or "none"}){said}', path)
    except SyntaxError as e:
        raise UserError('syntax', f'{os.path.basename(path)}:{e.lineno}: syntax error: {e.msg}', path, e.lineno)
    except Exception as e:
        raise from_exception(e, 'factory-threw', 'the training script raised', path)
    if run.optimizer is None:
        raise UserError('no-training', f'{os.path.basename(path)} ended without an optimizer step (torch.optim.*.step()); '
                        'NormScope measures the steps a script trains', path)
    if run.meter is not None:
        run.meter.remove()
    notes = [f'PyTorch {torch.__version__} on CPU, training script {os.path.basename(path)}, model {type(run.model).__name__} '
             f'trained by {type(run.optimizer).__name__}; measuring starts at its second optimizer step']
    return run, notes
