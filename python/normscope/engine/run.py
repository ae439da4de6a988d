"""One run: load, build, train for `steps` steps measuring every sampled step, report.
Events follow src/protocol/worker.ts; the host adds the findings (src/runner/pythonClient.ts)."""

import copy
import math
import os
import time

import torch

from ..measuring import creation, native
from ..measuring.batch_size import BatchProbe
from ..measuring.layer_table import layer_infos
from ..measuring.layers import measured_modules
from ..measuring.meter import STAT_NAMES, Meter
from .data import batches, call_model, loss_for
from .errors import UserError, from_exception
from .loader import check_norm_at_line, import_user_file, read_spec, training_setup
from .model_pick import find_model
from .script import run_script

DEFAULT_BATCH = 32
PLAIN_STEPS = 5


def _optimizer(spec, model):
    name = spec.get('optimizer', 'adam')
    lr = spec.get('lr', 1e-3)
    if callable(name):
        return name(model.parameters())
    table = {
        'adam': torch.optim.Adam,
        'adamw': torch.optim.AdamW,
        'sgd': torch.optim.SGD,
        'rmsprop': torch.optim.RMSprop,
    }
    if name not in table:
        raise UserError(
            'bad-spec',
            f"normscope['optimizer'] must be one of {', '.join(table)} or a function of the parameters, got {name!r}",
        )
    return table[name](model.parameters(), lr=lr)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def train_step(model, optimizer, loss_fn, x, y, meter=None):
    """One optimizer step; with a meter, every statistic of the step. Returns (loss, values or None)."""
    if meter is not None:
        meter.begin_step()
    try:
        optimizer.zero_grad()
        loss = loss_fn(call_model(model, x), y)
    finally:
        if meter is not None:
            meter.end_forward()
    loss.backward()
    if meter is not None:
        meter.after_backward()
    optimizer.step()
    if meter is None:
        return loss.item(), None
    meter.after_step()
    return loss.item(), meter.finish()


def _plain_step_ms(model, spec, data, loss_fn):
    """Median time of a few steps of an unhooked copy: the overhead baseline."""
    plain = copy.deepcopy(model)
    opt = _optimizer(spec, plain)
    times = []
    for k in range(PLAIN_STEPS + 1):
        x, y = data[k % len(data)]
        t = time.perf_counter()
        train_step(plain, opt, loss_fn, x, y)
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times[1:])[len(times[1:]) // 2]


def run(options, emit, cancelled, extra_notes=()):
    """`extra_notes`: the engine's own for the report (a model that ran unrestricted for want of Landlock)."""
    started = time.perf_counter()
    run_id = options.get('runId', 'py')
    path = os.path.abspath(options['file'])
    if options.get('script'):
        script, notes = run_script(options, emit, cancelled)
        report = build_report(
            path,
            notes,
            script.losses,
            script.batch_size or 0,
            False,
            None,
            script.meter,
            script.samples,
            script.step_ms,
            None,
            started,
        )
        if script.stopped not in (None, 'steps'):
            report['stoppedEarly'] = script.stopped
        emit({'type': 'done', 'runId': run_id, 'report': report})
        return
    torch.manual_seed(options.get('seed', 42))
    creation.install(path, options.get('projectRoot'))
    module = import_user_file(path, options.get('normSwap'))
    spec = read_spec(module, path)
    model, described = find_model(
        module, path, spec, options.get('model'), options.get('args'), options.get('pythonArgs')
    )
    if (
        options.get('normSwap') and options['normSwap'].get('to') != 'weightNorm'
    ):  # weight norm turns the norm into Identity
        check_norm_at_line(model, path, options['normSwap']['line'])
    steps = int(spec.get('steps', options.get('steps', 50)))
    batch_size = int(spec.get('batch_size', options.get('batchSize') or DEFAULT_BATCH))
    interval = max(1, int(options.get('samplingInterval', 1)))
    spec, setup_notes = training_setup(module, model, spec)
    notes = [f'PyTorch {torch.__version__} on CPU, model {described}', *setup_notes, *extra_notes]
    emit({'type': 'backend', 'runId': run_id, 'backend': {'name': 'cpu', 'notes': notes}})
    meter = Meter(measured_modules(model), [(None, model)])
    probe = BatchProbe([model])
    data, synthetic, note = batches(model, spec, path, batch_size, options.get('seed', 42), options.get('inputShape'))
    if note:
        notes.append(note)
    notes.append(native.note())
    model.train()
    try:
        optimizer = _optimizer(spec, model)
    except UserError:
        raise
    except Exception as e:  # normscope["optimizer"] is the user's function
        raise from_exception(e, 'bad-spec', 'building the optimizer raised', path)
    loss_fn = None
    losses, samples, stopped = [], [], None
    step_ms = []
    try:
        for step in range(steps):
            if cancelled():
                stopped = 'cancelled'
                break
            x, y = data[step % len(data)]
            if (
                loss_fn is None
            ):  # from the output's form; eval mode so the probe does not move BatchNorm's running stats
                model.eval()
                with torch.no_grad():
                    loss_fn = loss_for(spec, _first(call_model(model, x)))
                model.train()
            t = time.perf_counter()
            probe.begin_step()
            loss_value, values = train_step(model, optimizer, loss_fn, x, y, meter if step % interval == 0 else None)
            step_ms.append((time.perf_counter() - t) * 1000)
            if step == 0:
                batch_size = probe.end_step() or batch_size
                emit(
                    {
                        'type': 'layers',
                        'runId': run_id,
                        'file': path,
                        'layers': layer_infos(meter),
                        'statNames': STAT_NAMES,
                        'steps': steps,
                        'batchSize': batch_size,
                        'syntheticData': synthetic,
                    }
                )
            losses.append(loss_value if math.isfinite(loss_value) else None)
            if values is not None:
                sample = {
                    'step': step,
                    'loss': loss_value if math.isfinite(loss_value) else None,
                    'stepMs': step_ms[-1],
                    'values': values,
                }
                samples.append(sample)
                emit({'type': 'progress', 'runId': run_id, 'samples': [sample]})
            if not math.isfinite(loss_value):
                stopped = f'non-finite loss at step {step}'
                break
    except UserError:
        raise
    except Exception as e:
        raise from_exception(e, 'factory-threw', 'training step raised', path)
    meter.remove()
    probe.remove()
    eval_loss = None
    if stopped is None and loss_fn is not None:
        model.eval()
        try:
            with torch.no_grad():
                x, y = data[-1]
                eval_loss = loss_fn(call_model(model, x), y).item()  # pyright: ignore[reportAttributeAccessIssue]
        except Exception as e:
            raise from_exception(e, 'module-threw', 'the evaluation forward (model.eval()) after training raised', path)
    plain = None
    if options.get('measureOverhead') and loss_fn is not None and stopped is None:
        try:
            plain = _plain_step_ms(model, spec, data, loss_fn)
        except Exception:  # a model deepcopy cannot copy (a lock, a generator): no overhead figure, the run stands
            plain = None
    report = build_report(
        path, notes, losses, batch_size, synthetic, eval_loss, meter, samples, step_ms, plain, started
    )
    if stopped:
        report['stoppedEarly'] = stopped
    emit({'type': 'done', 'runId': run_id, 'report': report})


def build_report(path, notes, losses, batch_size, synthetic, eval_loss, meter, samples, step_ms, plain, started):
    """The RunReport of a model run or a script run (flags are added on the host)."""
    layers = layer_infos(meter)
    return {
        'file': path,
        'backend': 'cpu',
        'backendNotes': notes,
        'steps': len(losses),
        'batchSize': batch_size,
        'syntheticData': synthetic,
        'loss': losses,
        'evalLoss': eval_loss if eval_loss is not None and math.isfinite(eval_loss) else None,
        'layers': [
            {
                'name': info['name'],
                'className': info['className'],
                'source': info['source'],
                'stats': {
                    s: [_value(sample['values'], info['index'] * len(STAT_NAMES) + c) for sample in samples]
                    for c, s in enumerate(STAT_NAMES)
                },
                'sampledSteps': [sample['step'] for sample in samples],
                **{k: info[k] for k in ('fedBy', 'modelOutput') if k in info},
            }
            for info in layers
        ],
        'findings': [],
        'timing': {
            'instrumentedStepMs': _median(step_ms[1:] or step_ms),
            'plainStepMs': plain,
            'totalMs': (time.perf_counter() - started) * 1000,
        },
    }


def _median(xs):
    return sorted(xs)[len(xs) // 2] if xs else 0


def _value(values, k):
    """A sample's value, or None past its end: a layer first called after that sample (a script's model whose
    forward had not run yet) was not measured there."""
    v = values[k] if k < len(values) else None
    return v if v is not None and math.isfinite(v) else None
