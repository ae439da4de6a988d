"""`normscope run train.py [-- args]`: the user's own PyTorch training script runs as `__main__` with its argv (cwd is
the caller's), on its own data (its DataLoader), and its optimizer steps are measured.
Every optimizer gets its `step` replaced on the instance (a bound method, so LR schedulers can still wrap it).
The first step finds the models — for each optimizer built so far, the module built in the user's files whose
parameters it trains (a GAN: generator and discriminator) — and installs one meter over all their layers, as the tfjs
side does for a script's models. Measuring starts once every such optimizer has stepped (or one steps again), so each
model's forward has run under the hooks and the layer table is complete; with one optimizer, that is its second step.
Every step of any of these optimizers is a step of the report: it measures the layers that ran since the last step and
the weights of the model it trains; the other model's weights stay NaN ("not measured"). The loss is the last tensor
`backward()` was called on. After `steps` measured steps (or when the script ends) the script is stopped with a
BaseException its `except Exception` cannot swallow."""

import math
import os
import runpy
import sys
import time
import types
import weakref
from collections import deque

import torch

from ..measuring import creation
from ..measuring.batch_size import BatchProbe
from ..measuring.layer_table import layer_infos
from ..measuring.layers import model_leaves, model_names
from ..measuring.meter import STAT_NAMES, Meter
from .errors import UserError, from_exception, syntax_error


class _Stop(BaseException):
    """Ends the user's script: step limit reached or cancelled."""


class ScriptRun:
    def __init__(self, path, steps, interval, cancelled, emit, run_id):
        self.path, self.steps, self.interval, self.cancelled, self.emit, self.run_id = (
            path,
            steps,
            interval,
            cancelled,
            emit,
            run_id,
        )
        self.built = weakref.WeakSet()  # every nn.Module built in the user's files
        self.optimizers = []  # every optimizer the script built, in order
        self.trains = {}  # id(optimizer) → (its measured model or None, ids of the parameters it trains)
        self.models = []  # [(name, model, optimizer class name)], in the order of their optimizers
        self.meter = None
        self.probe = None
        self.ranks = []  # per measured leaf: the index of its model in self.models
        self.warmup = set()  # optimizers stepped before measuring starts; None once it has
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

        torch.nn.Module.__init__ = init  # pyright: ignore[reportAttributeAccessIssue] -- wrapped on purpose

        original_opt_init = torch.optim.Optimizer.__init__

        def opt_init(opt, *args, **kwargs):
            original_opt_init(opt, *args, **kwargs)
            opt.step = types.MethodType(_measured_step, opt)
            run.optimizers.append(opt)

        torch.optim.Optimizer.__init__ = opt_init  # pyright: ignore[reportAttributeAccessIssue]

        def _measured_step(opt, *args, **kwargs):
            return run.on_step(opt, lambda: type(opt).step(opt, *args, **kwargs))

        original_backward = torch.Tensor.backward

        def backward(tensor, *args, **kwargs):
            if tensor.numel() == 1:
                run.last_loss = tensor.detach()
            if run.meter is not None:
                run.meter.end_forward()  # functional activations are watched in forward only
            return original_backward(tensor, *args, **kwargs)

        torch.Tensor.backward = backward  # pyright: ignore[reportAttributeAccessIssue]

    def _find_model(self, opt):
        """The root module built in the user's files that holds most of the parameters `opt` trains, or None."""
        params = {id(p) for g in opt.param_groups for p in g['params']}
        roots = [m for m in self.built if not any(m is not o and any(c is m for c in o.modules()) for o in self.built)]
        scored = [(len(params & {id(p) for p in m.parameters()}), m) for m in roots]
        best = max(scored, key=lambda s: s[0], default=(0, None))
        return best[1] if best[0] else None, params

    def _start(self):
        """The models of every optimizer built so far, their layers in one table, and the meter."""
        for opt in self.optimizers:
            model, params = self.trains[id(opt)] = self._find_model(opt)
            if model is not None and all(m is not model for _, m, _ in self.models):
                self.models.append((None, model, type(opt).__name__))
        if not self.models:
            raise UserError(
                'no-model',
                f'{os.path.basename(self.path)}: the optimizer steps, but trains no nn.Module built in '
                'your files; NormScope measures modules whose classes or layers your code constructs',
                self.path,
            )
        names = model_names([m for _, m, _ in self.models], sys._getframe(2), creation.is_user_file)
        self.models = [(name, m, opt) for name, (_, m, opt) in zip(names, self.models)]
        self.probe = BatchProbe([m for _, m, _ in self.models])
        leaves, self.ranks = model_leaves(self.models)
        several = len(self.models) > 1
        self.meter = Meter(leaves, [(name if several else None, m) for name, m, _ in self.models])

    def _trains(self, opt):
        """(the measured model `opt` trains or None, its parameter ids); an optimizer built after measuring began counts
        only when it trains a model already in the table (the tfjs side warns the same way)."""
        if id(opt) not in self.trains:
            model, params = self._find_model(opt)
            if model is not None and all(m is not model for _, m, _ in self.models):
                sys.stderr.write(
                    f'NormScope: {type(model).__name__} is trained by an optimizer built after training began; '
                    'its layers are not measured\n'
                )
                model = None
            self.trains[id(opt)] = model, params
        return self.trains[id(opt)]

    # -- the step --------------------------------------------------------------------------------------------------
    def on_step(self, opt, real_step):
        if self.meter is None:
            self._start()
        model, params = self._trains(opt)
        if model is None:
            return real_step()  # a latent code, or a model built after training began: not measured
        if self.warmup is not None:
            again = id(opt) in self.warmup
            self.warmup.add(id(opt))
            result = real_step()
            if again or all(
                id(o) in self.warmup for o in self.optimizers if self.trains.get(id(o), (None,))[0] is not None
            ):
                self.warmup = None
                self._arm(0)
            return result
        step = len(self.losses)
        sampling = self.meter.sampling
        if sampling:
            self.meter.params.select(id(opt), params)
            self.meter.after_backward()
        result = real_step()
        ms = (time.perf_counter() - self.step_started) * 1000 if self.step_started else 0.0
        loss = self.last_loss.item() if self.last_loss is not None else float('nan')
        self.losses.append(loss if math.isfinite(loss) else None)
        self.step_ms.append(ms)
        batch = self.probe.end_step()
        if self.batch_size is None and sampling:
            self.batch_size = batch
        if sampling:
            self.meter.after_step()
            if not self.samples:
                # The table lists model by model (the first optimizer's first, as tfjs lists a script's models in
                # creation order), each in call order: a GAN's generator step calls the discriminator first.
                self.meter.order.sort(key=self._rank)
                self.emit(
                    {
                        'type': 'layers',
                        'runId': self.run_id,
                        'file': self.path,
                        'layers': layer_infos(self.meter),
                        'statNames': STAT_NAMES,
                        'steps': self.steps or 0,
                        'batchSize': self.batch_size or 0,
                        'syntheticData': False,
                    }
                )
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
        if step % self.interval == 0:
            self.meter.begin_step()
        self.probe.begin_step()
        self.step_started = time.perf_counter()

    def _rank(self, row):
        """The index of the model a row belongs to (a functional row: its producer's)."""
        leaves = len(self.meter.leaves)
        while row >= leaves:
            row = self.meter.sites[row - leaves].producer
        return self.ranks[row]


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
    creation.install(path, options.get('projectRoot'))
    run = ScriptRun(
        path, steps, max(1, int(options.get('samplingInterval', 1))), cancelled, emit, options.get('runId', 'py')
    )
    run.install()
    sys.argv = [path, *script.get('args', [])]
    sys.stderr = tail = _StderrTail(sys.stderr)
    sys.path.insert(0, os.path.dirname(path))
    emit(
        {
            'type': 'backend',
            'runId': run.run_id,
            'backend': {
                'name': 'cpu',
                'notes': [f'PyTorch {torch.__version__} on CPU, training script {os.path.basename(path)}'],
            },
        }
    )
    try:
        runpy.run_path(path, run_name='__main__')
    except _Stop:
        pass
    except SystemExit as e:
        if e.code not in (None, 0):
            said = ':\n' + '\n'.join(tail.lines) if tail.lines else ''
            raise UserError(
                'script-exit',
                f'{os.path.basename(path)} exited with code {e.code} before training finished '
                f'(its arguments: {" ".join(script.get("args", [])) or "none"}){said}',
                path,
            )
    except SyntaxError as e:
        raise syntax_error(e, path, 'factory-threw', 'the training script raised')
    except Exception as e:
        raise from_exception(e, 'factory-threw', 'the training script raised', path)
    finally:
        if run.meter is not None:
            run.meter.remove()
            run.probe.remove()
    if run.meter is None:
        raise UserError(
            'no-training',
            f'{os.path.basename(path)} ended without an optimizer step (torch.optim.*.step()); '
            'NormScope measures the steps a script trains',
            path,
        )
    if len(run.models) == 1:
        _, model, opt = run.models[0]
        trained = f'model {type(model).__name__} trained by {opt}; measuring starts at its second optimizer step'
    else:
        trained = (
            'models '
            + ', '.join(f'{name} ({type(m).__name__}) trained by {opt}' for name, m, opt in run.models)
            + '; measuring starts once each optimizer has stepped, every step of either is a step'
        )
    notes = [f'PyTorch {torch.__version__} on CPU, training script {os.path.basename(path)}, {trained}']
    return run, notes
