"""`watch(model, optimizer, every=1)`: the engine's Meter in the user's own training loop, one sample per optimizer
step.

Each watched optimizer's `step` is replaced on the instance by a bound method that calls the one it replaced (so an
LR scheduler built before or after still counts steps): after the gradients are there it measures the weights and
gradients, calls the real step, measures the update, and the step's activations measured since the previous step
(forwards autograd records: a `torch.no_grad` evaluation in between is not measured) become one sample of the run log
(runlog/writer.py). Gradient accumulation: every micro-batch's forward runs under the hooks, a layer's last call of
the step
is its sample, the gradients are the accumulated ones. A GradScaler step that skipped the optimizer (an AMP overflow)
is recorded as skipped, its sample dropped; the loss and activation gradients are divided by the scale it used.
DistributedDataParallel (and DataParallel) are measured through `.module`, a torch.compile'd module through
`_orig_mod` (its compiled graph runs without the hooks; see docs/watch.md). Nothing here changes what the run
computes: hooks only read, and `inplace` activations are measured as the engine does (test: bit-identical losses)."""

import atexit
import math
import os
import sys
import time
import types

import torch

from ..measuring import creation, native
from ..measuring.batch_size import BatchProbe
from ..measuring.layer_table import layer_infos
from ..measuring.layers import model_leaves
from ..measuring.meter import STAT_NAMES, Meter
from ..measuring.stats_math import ACT_GRAD
from ..measuring.step_buffer import to_host
from ..runlog.writer import RunLogWriter
from . import patches
from .distributed import Combiner, rank_and_world
from .models import caller_model_names, unwrap
from .sources import sources

RANKS_EVERY = 1000  # a `ranks` record (per-rank BatchNorm batch statistics) at the first sample and every this many


def watch(model, optimizer, every=1, **options):
    """Watches `model` (or a list of models) trained by `optimizer` (or a list), measuring every `every`th optimizer
    step into a run log under $NORMSCOPE_DIR, else .normscope/runs/<time>-<script>/. Options: `directory` (the run
    folder), `budget_mb` (the log's bound, default 128), `project_root` (default: the script's project). Returns the
    Watcher:
    call `.close()` at the end, or use it as a context manager."""
    return Watcher(model, optimizer, every, **options)


class Watcher:
    def __init__(self, models, optimizers, every=1, *, directory=None, budget_mb=None, project_root=None):
        models = list(models) if isinstance(models, (list, tuple)) else [models]
        optimizers = list(optimizers) if isinstance(optimizers, (list, tuple)) else [optimizers]
        if not models or not all(isinstance(m, torch.nn.Module) for m in models):
            raise TypeError('normscope.watch: model must be an nn.Module or a list of them')
        if not optimizers or not all(isinstance(o, torch.optim.Optimizer) for o in optimizers):
            raise TypeError('normscope.watch: optimizer must be a torch.optim.Optimizer or a list of them')
        self.every = max(1, int(every))
        self.notes = []
        self.ddp = any(type(m).__name__ == 'DistributedDataParallel' for m in models)
        names = caller_model_names(models) if len(models) > 1 else [None]
        models = [unwrap(m, self.notes) for m in models]
        self.models = list(zip(names, models))
        leaves, _ = model_leaves([(n, m, None) for n, m in self.models])
        self.inplace = [
            m for _, m in leaves if getattr(m, 'inplace', None) is True
        ]  # the Meter turns them off; close() restores
        self.meter = Meter(leaves, [(n, m) for n, m in self.models])
        self.probe = BatchProbe(models)
        self.rank, self.world, grouped = rank_and_world()
        self.combiner = Combiner(self.rank, self.world) if grouped and self.world > 1 else None
        script = sys.argv[0] if sys.argv and os.path.isfile(sys.argv[0]) else None
        root = project_root or (creation.project_root(script) if script else os.getcwd())
        self.sources = sources(models, root)
        self.writer = None
        if self.rank == 0:
            device = next((p.device.type for m in models for p in m.parameters()), 'cpu')
            meta = {
                'every': self.every,
                'worldSize': self.world,
                'device': device,
                'measuring': native.note(),
                'notes': self.notes,
            }
            if self.world > 1:
                meta['distributed'] = {
                    'combined': self.combiner is not None,
                    'ddp': self.ddp,
                    'syncBatchNorm': any(isinstance(m, torch.nn.SyncBatchNorm) for _, m in leaves),
                }
            self.writer = RunLogWriter(
                directory,
                script=script,
                project_root=root,
                meta=meta,
                budget_bytes=budget_mb * (1 << 20) if budget_mb else None,
            )
        self.trains = {}  # id(optimizer) → ids of the parameters it trains
        self.replaced = {}  # id(optimizer) → (optimizer, the step attribute it had on the instance, or None)
        for opt in optimizers:
            self._hook(opt)
        self.step = 0
        self.losses = []  # the backward() losses since the last step (detached tensors)
        self.pending = []  # (step, loss tensor or float, scale or None) not yet written
        self.scaling = {}  # id(optimizer) → [scaler, stepped] while GradScaler.step runs
        self.closed, self.started, self.table = False, None, 0
        self.inflight = None  # DDP: (the started collective, the sample it completes)
        patches.opened(self)
        atexit.register(self._at_exit)  # after the writer's: runs first, writing the losses not yet written
        self._arm()

    # --- the optimizer's step ------------------------------------------------------------------------------------
    def _hook(self, opt):
        self.trains[id(opt)] = {id(p) for g in opt.param_groups for p in g['params']}
        before = opt.__dict__.get('step')
        call = before if before is not None else types.MethodType(type(opt).step, opt)
        watcher = self

        def step(optimizer, *args, **kwargs):
            return watcher._on_step(optimizer, call, args, kwargs)

        if getattr(before, '_with_counter', False):
            step._with_counter = True  # pyright: ignore[reportFunctionMemberAccess] -- a scheduler's counting wrapper is inside
        opt.step = types.MethodType(step, opt)
        self.replaced[id(opt)] = (opt, before, opt.step)

    def watches(self, opt):
        return not self.closed and id(opt) in self.trains

    def _on_step(self, opt, call, args, kwargs):
        if self.closed:
            return call(*args, **kwargs)
        scaling = self.scaling.get(id(opt))
        if scaling is not None:
            scaling[1] = True
        sampling = self.meter.sampling
        if sampling:
            self.meter.params.select(id(opt), self.trains[id(opt)])
            self.meter.after_backward()
        result = call(*args, **kwargs)
        self._stepped(sampling, scaling[0] if scaling else None)
        return result

    def on_backward(self, loss):
        if not self.closed:
            self.losses.append(loss)

    def scaler_begin(self, opt, scaler):
        self.scaling[id(opt)] = [scaler, False]

    def scaler_end(self, opt):
        scaler, stepped = self.scaling.pop(id(opt), (None, True))
        if not stepped and not self.closed:  # GradScaler found inf/NaN gradients and skipped the optimizer
            if self.meter.sampling:
                self.meter.finish()  # the step's partial measurement is dropped with the step
            self._take_loss(_scale(scaler))
            if self.writer is not None:
                self.writer.skipped(self.step, 'amp-overflow')
            self.step += 1
            self._arm()

    def _take_loss(self, scale):
        """This step's loss: the mean of the losses backward() was called on since the last step, unscaled."""
        losses, self.losses = self.losses, []
        if not losses:
            loss = math.nan
        else:
            loss = losses[0] if len(losses) == 1 else torch.stack([x.reshape(()).float() for x in losses]).mean()
        self.pending.append((self.step, loss, scale))

    def _stepped(self, sampling, scaler):
        ms = (time.perf_counter() - self.started) * 1000 if self.started else math.nan
        scale = _scale(scaler)
        self._take_loss(scale)
        batch = self.probe.end_step()
        if sampling:
            self.meter.after_step()
            losses = _host([loss for _, loss, _ in self.pending], [s for _, _, s in self.pending])
            started = (
                self._collective(self.combiner.start, self.meter, losses, batch) if self.combiner is not None else None
            )
            values = list(self.meter.finish())
            if scale:
                for k in range(ACT_GRAD, len(values), len(STAT_NAMES)):
                    values[k] /= scale
            sample, self.pending = (self.pending, losses, values, ms, batch), []
            if started is None:
                self._write(*sample)
            else:  # written when the collective is done: at the next sampled step or at close()
                self._complete()
                self.inflight = (started, sample)
        self.step += 1
        self._arm()

    def _complete(self):
        """Combines and writes the sample whose collective is in flight, if any."""
        inflight, self.inflight = self.inflight, None
        if inflight is None:
            return
        started, (pending, losses, values, ms, batch) = inflight
        gathered = self._collective(self.combiner.finish, started)
        ranks = None
        if gathered is not None:
            losses, batches, per_rank = self.combiner.combine(gathered, len(losses), self.meter, values)
            ranks = (batches, per_rank)
        self._write(pending, losses, values, ms, batch, ranks)

    def _collective(self, call, *args):
        try:
            return call(*args)
        except RuntimeError as e:  # a rank died or timed out: rank 0's log ends here, readable
            self.close('exception', f'NormScope: the other ranks did not answer at step {self.step}: {e}')
            raise

    def _write(self, pending, losses, values, ms, batch, ranks=None):
        if self.writer is None:
            return
        w = self.writer
        if self.table < len(self.meter.order):
            infos = layer_infos(self.meter)
            for info, i in zip(infos, self.meter.order):
                if info.get('source') is None and i < len(self.meter.leaves):
                    info['source'] = self.sources.get(id(self.meter.leaves[i][1]))
            if self.table == 0:
                w.info(
                    batchSize=batch or 0,
                    **({'globalBatchSize': sum(ranks[0])} if ranks else {}),
                    **_learning_rate(self.replaced),
                )
            w.layers(infos)
            self.table = len(infos)
        for (step, _, _), loss in zip(pending[:-1], losses[:-1]):
            w.loss(step, loss)
        w.sample(pending[-1][0], losses[-1], ms, values)
        if ranks and (w.seq - 1) % RANKS_EVERY == 0 and ranks[1]:
            w.note(
                {
                    'type': 'ranks',
                    'seq': w.seq - 1,
                    'step': pending[-1][0],
                    'batch': ranks[0],
                    'layers': {str(r): v for r, v in ranks[1].items()},
                }
            )

    def _arm(self):
        if self.step % self.every == 0:
            self.meter.begin_step()
        self.probe.begin_step()
        self.started = time.perf_counter()

    # --- the end -------------------------------------------------------------------------------------------------
    def close(self, reason='closed', message=None):
        """Takes every hook off, puts the optimizers' steps back, writes the losses not yet written and ends the log."""
        if self.closed:
            return
        if self.inflight is not None and (reason != 'exception' or self.inflight[0][0].is_completed()):
            try:  # after an exception only a collective that is done: a dead rank's would wait for the timeout
                self._complete()
            except RuntimeError:
                return  # _collective closed the log with the ranks' error
        self.closed = True
        atexit.unregister(self._at_exit)
        patches.closed(self)
        for opt, before, ours in self.replaced.values():
            if opt.__dict__.get('step') is ours:  # else a scheduler wrapped ours: it stays, and passes through
                if before is None:
                    del opt.step
                else:
                    opt.step = before
        self.replaced = {}  # its step closures refer to this watcher: no cycle keeps the watcher (and its group) alive
        if self.combiner is not None and self.inflight is None:
            self.combiner.release()
        self.meter.remove()
        self.probe.remove()
        for module in self.inplace:
            module.inplace = True
        if self.writer is not None:
            if self.pending:
                losses = _host([x for _, x, _ in self.pending], [s for _, _, s in self.pending])
                for (step, _, _), loss in zip(self.pending, losses):
                    self.writer.loss(step, loss)
            self.writer.close(reason, message)
        self.pending = []

    def _at_exit(self):
        error = getattr(sys, 'last_value', None)  # an uncaught exception ended the interpreter
        self.close(
            'exception' if error else 'exit',
            f'{type(error).__name__}: {error}' if error else 'the process exited without close()',
        )

    @property
    def directory(self):
        """The run folder (None on ranks other than 0)."""
        return self.writer.dir if self.writer is not None else None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close(
            'exception' if value is not None else 'closed', f'{kind.__name__}: {value}' if value is not None else None
        )


def _scale(scaler):
    """The scale a GradScaler multiplied the loss by for this step (before its update), or None."""
    if scaler is None or not getattr(scaler, '_enabled', False) or getattr(scaler, '_scale', None) is None:
        return None
    return float(scaler._scale)


def _host(losses, scales):
    """The losses as floats, read with one device-to-host copy; a scaled loss divided by its scale."""
    return [x / s if s else x for x, s in zip(to_host(losses), scales)]


def _learning_rate(replaced):
    for opt, _, _ in replaced.values():
        lr = opt.param_groups[0].get('lr') if opt.param_groups else None
        if isinstance(lr, (int, float)):
            return {'learningRate': float(lr)}
    return {}
