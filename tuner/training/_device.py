"""Which device a run trains on, and why: a GPU (with mixed precision) or the CPU, with
the reason no GPU is visible when there is none."""

from __future__ import annotations

import ctypes.util
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from advisor.codec import Record

__all__ = ["DeviceInfo", "detect_device", "why_no_gpu"]


@dataclass(frozen=True)
class DeviceInfo(Record):
    """The device TensorFlow trains on in this run.

    ``kind``: ``"GPU"`` or ``"CPU"``; ``name``: the GPU's (or CPU's) model; ``count``: GPUs
    visible; ``mixed_precision``: whether trials train in mixed float16 (the output layer
    and the loss stay float32); ``reason``: why this device and precision, in words;
    ``tensorflow``: its version and whether it was built with CUDA."""

    kind: str
    name: str
    count: int
    mixed_precision: bool
    reason: str
    tensorflow: str = ""

    @property
    def summary(self) -> str:
        """One line for the terminal: device, precision and why."""
        what = f"{self.kind} ({self.name})" if self.name else self.kind
        precision = "mixed precision" if self.mixed_precision else "float32"
        return f"{what}, {precision}: {self.reason}"


def why_no_gpu(built_with_cuda: bool, env: dict[str, str] | None = None,
               driver_present: bool | None = None) -> str:
    """Why TensorFlow sees no GPU, most likely cause first."""
    env = dict(os.environ) if env is None else env
    if not built_with_cuda:
        return ("no GPU: this TensorFlow is a CPU-only build (tensorflow-cpu); a GPU user "
                "installs pip install -e '.[gpu]' (tensorflow[and-cuda])")
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return f"no GPU: CUDA_VISIBLE_DEVICES is {visible!r}, which hides every GPU"
    if driver_present is None:
        driver_present = (Path("/proc/driver/nvidia/version").exists()
                          or ctypes.util.find_library("cuda") is not None)
    if not driver_present:
        return "no GPU: no NVIDIA driver on this machine (no /proc/driver/nvidia, no libcuda)"
    return ("no GPU: TensorFlow is built with CUDA and a driver is present, but it lists no "
            "GPU (CUDA or cuDNN libraries missing, or an unsupported GPU); see "
            "python -c \"import tensorflow as tf; print(tf.config.list_physical_devices())\"")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def detect_device(precision: str = "auto") -> DeviceInfo:
    """The device of this process's TensorFlow, and the precision ``precision`` gives
    there (``"auto"``: mixed float16 on a GPU)."""
    import tensorflow as tf

    from tuner.training._precision import use_mixed_precision

    cuda = bool(tf.test.is_built_with_cuda())
    build = f"{tf.__version__}{', CUDA build' if cuda else ', CPU-only build'}"
    gpus = tf.config.list_physical_devices("GPU")
    mixed = use_mixed_precision(precision)
    if not gpus:
        reason = why_no_gpu(cuda)
        if mixed:
            reason += "; mixed precision forced on the CPU (--precision mixed), slower there"
        return DeviceInfo("CPU", _cpu_name(), 0, mixed, reason, build)
    try:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
    except (ValueError, RuntimeError):
        name = ""
    reason = (f"{len(gpus)} GPU(s) visible to TensorFlow; "
              + ("mixed precision on (float16 compute, float32 output layer and loss)" if mixed
                 else "mixed precision off (precision float32 asked)"))
    return DeviceInfo("GPU", name, len(gpus), mixed, reason, build)
