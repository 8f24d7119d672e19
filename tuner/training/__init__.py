"""Training: the trial runner (in this process or a worker), its activation cache,
networks, augmentation, the epoch loops, the framing decision and the LR finder
(:func:`find_lr`)."""

from tuner.training._augment import NO_FLIP, AugmentSpec, get_augmentation
from tuner.training._child import die_with_parent
from tuner.training._device import DeviceInfo, detect_device, why_no_gpu
from tuner.training._framing import FramingChoice, choose_framing
from tuner.training._lrcurve import LRCurve, LRFinding
from tuner.training._lrfind import find_lr
from tuner.training._precision import PRECISIONS, gpu_available, use_mixed_precision
from tuner.training._protocol import EpochCallback, Runner
from tuner.training._runner import SCRATCH_BN_MOMENTUM, SCRATCH_MAX_SIZE, TrialRunner
from tuner.training._spec import VIEWS, RunnerSpec
from tuner.training._worker import RECYCLE_GROWTH, WorkerDied, WorkerRunner

__all__ = ["NO_FLIP", "PRECISIONS", "RECYCLE_GROWTH", "SCRATCH_BN_MOMENTUM", "SCRATCH_MAX_SIZE",
           "VIEWS", "AugmentSpec", "DeviceInfo", "EpochCallback", "FramingChoice", "LRCurve", "LRFinding",
           "Runner", "RunnerSpec",
           "TrialRunner", "WorkerDied", "WorkerRunner", "choose_framing", "detect_device", "die_with_parent",
           "find_lr", "get_augmentation",
           "gpu_available", "use_mixed_precision", "why_no_gpu"]
