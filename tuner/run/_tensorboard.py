"""TensorBoard logs of a sweep: ``RUN/tensorboard/``, for ``tensorboard --logdir``.

One folder per finished trial (``trial_0007/``) holds its per-epoch scalars
(``accuracy/train``, ``accuracy/val``, ``loss/train``, ``loss/val``, step = epoch), its
outcome (``best/val_accuracy``, ``best/val_loss``, ``trial/epochs``, ``trial/seconds``) and
the HParams plugin's session summaries (every :class:`~tuner.trial.TrialParams` field and
the trial's ``state``); ``RUN/tensorboard/`` itself holds the experiment's HParams
configuration (the searched dimensions with their domains, the other parameters, the
metrics). The process that tells the backend a trial ended writes that trial's folder from
its :class:`~tuner.trial.TrialRecord` (a worker subprocess of its own, a resumed session);
a trial written again replaces its file. FAIL trials get none.

Event files are written with TensorBoard's protobufs and record writer, never with
TensorFlow: writing imports no TensorFlow, opens no GPU context (in the supervisor of an
isolated worker) and logs nothing on the terminal; a 10-epoch trial costs milliseconds.
Without the ``tensorboard`` package the sweep runs on and one warning says why there are
no logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.trial import TrialParams, TrialRecord

if TYPE_CHECKING:
    from tuner.search import Dimension, SearchSpace

__all__ = ["TENSORBOARD_DIR", "TensorBoardLog", "trial_log_name"]

TENSORBOARD_DIR = "tensorboard"  # under the run directory
# EpochRecord field -> scalar tag, per epoch
EPOCH_TAGS = {"train_accuracy": "accuracy/train", "val_accuracy": "accuracy/val",
              "train_loss": "loss/train", "val_loss": "loss/val"}
# the HParams dashboard's metrics: tag -> (display name, description)
METRICS = {"best/val_accuracy": ("best val accuracy", "validation accuracy of the best epoch"),
           "best/val_loss": ("val loss at best", "validation loss of the best epoch"),
           "trial/epochs": ("epochs", "epochs run (fewer when stopped early or pruned)"),
           "trial/seconds": ("seconds", "training time of the trial")}
STATE_HPARAM = "state"  # COMPLETE or PRUNED
_SUFFIX = ".tltune"  # the end of the event files this module writes
_INSTALL = "pip install tensorboard (from a checkout: pip install -c constraints.txt -e .)"


def trial_log_name(number: int) -> str:
    """The folder of trial ``number`` under ``RUN/tensorboard``: ``trial_0007``."""
    return f"trial_{number:04d}"


def _epoch_secs(iso: str | None) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else time.time()
    except ValueError:
        return time.time()


def _hparam_value(v: Any) -> bool | int | float | str | None:
    """``v`` as an HParams value (bool, number or string); ``None`` for anything else."""
    return v if isinstance(v, (bool, int, float, str)) else None


class TensorBoardLog:
    """Writes the TensorBoard logs of the sweep in ``run_dir``; ``warn`` receives why a
    log was not written (``tensorboard`` missing: once; a file that cannot be written)."""

    def __init__(self, run_dir: str | Path, warn: Callable[[str], None] | None = None) -> None:
        self.root = Path(run_dir) / TENSORBOARD_DIR
        self._warn = warn or (lambda message: None)
        self._available: bool | None = None

    @property
    def available(self) -> bool:
        """Whether the ``tensorboard`` package can be imported (warns once when not)."""
        if self._available is None:
            try:
                import tensorboard.plugins.hparams.summary_v2  # noqa: F401
                self._available = True
            except ImportError as e:
                self._available = False
                self._warn(f"no TensorBoard logs: the tensorboard package is missing ({e}); "
                           f"{_INSTALL}")
        return self._available

    def trial_dir(self, number: int) -> Path:
        return self.root / trial_log_name(number)

    def write_config(self, space: SearchSpace) -> bool:
        """The experiment's HParams configuration (``RUN/tensorboard/``), replacing the one
        an earlier session wrote; ``False`` when nothing was written."""
        if not self.available:
            return False
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp

        infos = []
        for d in space.dimensions():  # the searched ones, with their domains
            info = api_pb2.HParamInfo(name=d.name)
            domain = _domain(d)
            if domain is not None:
                domain.update_hparam_info(info)
            infos.append(info)
        searched = {i.name for i in infos}
        infos += [api_pb2.HParamInfo(name=f.name, type=_data_type(f.type))
                  for f in dataclasses.fields(TrialParams) if f.name not in searched]
        state = api_pb2.HParamInfo(name=STATE_HPARAM)
        hp.Discrete(["COMPLETE", "PRUNED"]).update_hparam_info(state)
        metrics = [hp.Metric(tag, display_name=name, description=about).as_proto()
                   for tag, (name, about) in METRICS.items()]
        now = time.time()
        experiment = api_pb2.Experiment(hparam_infos=[*infos, state], metric_infos=metrics,
                                        time_created_secs=now)
        summary = _plugin_summary(metadata.EXPERIMENT_TAG,
                                  plugin_data_pb2.HParamsPluginData(experiment=experiment))
        return self._write(self.root, [(now, 0, summary)], "the HParams configuration")

    def write_trial(self, record: TrialRecord) -> bool:
        """The event file of a COMPLETE or PRUNED trial (its folder's earlier file
        replaced); ``False`` for other states, or when nothing was written."""
        if not record.is_finished or not self.available:
            return False
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        def scalars(values: Iterable[tuple[str, Any]]) -> summary_pb2.Summary:
            out = summary_pb2.Summary()
            for tag, v in values:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.value.extend(scalar_pb(tag, float(v)).value)
            return out

        names = [f.name for f in dataclasses.fields(TrialParams)]
        values = {k: _hparam_value(record.params.get(k)) for k in names}
        values = {k: v for k, v in values.items() if v is not None}
        values[STATE_HPARAM] = record.state
        start, end = _epoch_secs(record.started), _epoch_secs(record.finished)
        name = trial_log_name(record.number)
        events = [(start, 0, hp.hparams_pb(values, trial_id=name, start_time_secs=start))]
        history = sorted(record.history, key=lambda h: h.get("epoch", 0))
        for h in history:
            events.append((end, int(h.get("epoch", 0)),
                           scalars((tag, h.get(k)) for k, tag in EPOCH_TAGS.items())))
        last = int(history[-1].get("epoch", 0)) if history else 0
        events.append((end, last, scalars(zip(METRICS, (record.val_accuracy, record.val_loss,
                                                         record.epochs_run, record.seconds)))))
        ended = _plugin_summary(metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS,
                                                            end_time_secs=end)))
        events.append((end, last, ended))
        return self._write(self.root / name, events, f"trial {record.number}")

    def _write(self, folder: Path, events: list[tuple[float, int, Any]], what: str) -> bool:
        """One event file in ``folder`` holding ``events`` (wall time, step, Summary),
        written under a temporary name, then put in place of the file written before."""
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        now = time.time()
        name = f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}{_SUFFIX}"
        tmp = folder / f".writing-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                w = RecordWriter(f)
                w.write(event_pb2.Event(wall_time=now, file_version="brain.Event:2")
                        .SerializeToString())
                for wall, step, summary in events:
                    w.write(event_pb2.Event(wall_time=wall, step=step, summary=summary)
                            .SerializeToString())
            os.replace(tmp, folder / name)
            for old in folder.glob("events.out.tfevents.*"):
                if old.name != name and old.is_file():
                    old.unlink()
            return True
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self._warn(f"TensorBoard log of {what} not written in {folder}: {e}")
            return False


def _domain(d: Dimension) -> Any:
    """The HParams domain of a searched dimension (``None`` where it has none)."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    if d.kind == "float" and d.low is not None and d.high is not None:
        return hp.RealInterval(float(d.low), float(d.high))
    kinds = {type(c) for c in d.choices}
    if d.choices and len(kinds) == 1 and kinds <= {bool, int, float, str}:
        return hp.Discrete(list(d.choices))
    return None


def _data_type(annotation: object) -> int:
    """The HParams data type of a :class:`TrialParams` field's annotation."""
    from tensorboard.plugins.hparams import api_pb2

    base = str(annotation).replace("| None", "").strip()
    return {"str": api_pb2.DATA_TYPE_STRING, "bool": api_pb2.DATA_TYPE_BOOL,
            "int": api_pb2.DATA_TYPE_FLOAT64, "float": api_pb2.DATA_TYPE_FLOAT64
            }.get(base, api_pb2.DATA_TYPE_UNSET)


def _plugin_summary(tag: str, data: Any) -> Any:
    """A Summary holding the HParams plugin's ``data`` (an ``HParamsPluginData``)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata

    out = summary_pb2.Summary()
    out.value.add(tag=tag, metadata=metadata.create_summary_metadata(data),
                  tensor=metadata.NULL_TENSOR)
    return out
