"""dfh_diag: log training diagnostics for dfh, the Dark Factory Harness.

Standard library only, Python >= 3.8. Events go, one JSON object a line, to the file named by
$DFH_EVENTS (dfh sets it for every run); without it nothing is written, so the script still
runs by hand. Each event is flushed as it is written: a crash keeps everything logged before it.

    import dfh_diag as dfh
    run = dfh.Run()
    for step in range(num_steps):
        ...
        loss.backward()
        run.grad_norms(step, model, groups={"backbone": model.backbone, "head": model.head})
        optimizer.step()
        run.log(step, task_loss=loss.item(), energy_loss=energy.item())
    run.eval({"pass@1": 0.15})
    run.section("energy_calibration", {"separation": 0.42})
    run.summary(val_bpb=0.9979, training_seconds=300.1)

Events: {"series": "training_curves/task_loss", "step": 120, "value": 2.31} and
{"section": "eval", "values": {"pass@1": 0.15}}. NaN and infinities are written as the strings
"nan", "inf", "-inf" (JSON has no NaN). With DFH_SMOKE=1 the first run.log() call exits the
script (status 0) once its events are written: a quick check that the script starts.
"""

import json
import math
import os
import sys

__all__ = ["Run", "log", "grad_norms", "section", "eval", "summary"]


def _number(name, value):
    """A JSON-safe float (NaN/inf as strings); accepts ints, floats, numpy and 0-d torch values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError("dfh_diag: %s=%r is not a number" % (name, value)) from None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _jsonable(name, value):
    """Section values: numbers made NaN-safe, strings and booleans kept, dicts and lists walked."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dict):
        return {str(key): _jsonable(key, item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, item) for item in value]
    if isinstance(value, int):
        return value
    return _number(name, value)


class Run:
    """One training run's event log. `path` defaults to $DFH_EVENTS."""

    def __init__(self, path=None):
        path = path or os.environ.get("DFH_EVENTS")
        self._smoke = os.environ.get("DFH_SMOKE") == "1"
        self._file = None
        if path:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._file = open(path, "a", buffering=1, encoding="utf-8")  # line-buffered

    def _write(self, event):
        if self._file is not None:
            self._file.write(json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n")
            self._file.flush()

    def log(self, step, mapping=None, /, **series):
        """Log series values at `step`: run.log(10, task_loss=2.3) is training_curves/task_loss.
        A name with a section prefix is kept as given: run.log(10, {"gradient_norms/x": 0.5})."""
        values = dict(mapping or {}, **series)
        for name, value in values.items():
            full = name if "/" in name else "training_curves/" + name
            self._write({"series": full, "step": int(step), "value": _number(name, value)})
        if self._smoke:
            self.close()
            sys.exit(0)

    def grad_norms(self, step, model=None, groups=None):
        """Log the L2 norm of the gradients of each named module group (call after backward()):
        events gradient_norms/<group>. A group with no gradients logs 0. Returns {group: norm}."""
        try:
            import torch
        except ImportError:
            raise RuntimeError(
                "grad_norms needs PyTorch (import torch failed); log norms you compute yourself "
                "with run.log(step, {'gradient_norms/<group>': norm})"
            ) from None
        groups = groups if groups is not None else {"model": model}
        norms = {}
        for group, module in groups.items():
            parameters = module.parameters() if hasattr(module, "parameters") else module
            grads = [p.grad.detach() for p in parameters if getattr(p, "grad", None) is not None]
            if grads:
                device = grads[0].device
                per_tensor = [torch.linalg.vector_norm(g.float()).to(device) for g in grads]
                norms[group] = float(torch.linalg.vector_norm(torch.stack(per_tensor)))
            else:
                norms[group] = 0.0
        for group, norm in norms.items():
            self._write({"series": "gradient_norms/" + group, "step": int(step),
                         "value": _number(group, norm)})
        return norms

    def section(self, name, values):
        """Log named values, e.g. run.section("energy_calibration", {"separation": 0.42})."""
        self._write({"section": str(name), "values": _jsonable(name, dict(values))})

    def eval(self, values):
        """Log evaluation results: the section "eval"."""
        self.section("eval", values)

    def summary(self, **values):
        """Print the final `key: value` block dfh (and autoresearch) read from the log."""
        print("---")
        for key, value in values.items():
            if isinstance(value, float):
                value = "%.6f" % value
            print("%-18s%s" % (key + ":", value))
        sys.stdout.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


_default_run = None


def _run():
    global _default_run
    if _default_run is None:
        _default_run = Run()
    return _default_run


def log(step, mapping=None, /, **series):
    _run().log(step, mapping, **series)


def grad_norms(step, model=None, groups=None):
    return _run().grad_norms(step, model, groups)


def section(name, values):
    _run().section(name, values)


def eval(values):  # noqa: A001 - the section's name
    _run().eval(values)


def summary(**values):
    _run().summary(**values)
