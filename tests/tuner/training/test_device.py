"""Which device a run trains on and why, as every run reports it."""

from __future__ import annotations

import json
from pathlib import Path

from tuner.training import DeviceInfo, detect_device, why_no_gpu


def test_why_no_gpu_names_the_cause() -> None:
    assert "CPU-only build" in why_no_gpu(False, {})
    assert "CUDA_VISIBLE_DEVICES is ''" in why_no_gpu(True, {"CUDA_VISIBLE_DEVICES": ""})
    assert "'-1'" in why_no_gpu(True, {"CUDA_VISIBLE_DEVICES": "-1"})
    assert "no NVIDIA driver" in why_no_gpu(True, {}, driver_present=False)
    assert "lists no GPU" in why_no_gpu(True, {"CUDA_VISIBLE_DEVICES": "0"}, driver_present=True)


def test_this_machine_is_detected_as_it_is() -> None:
    import tensorflow as tf

    d = detect_device()
    gpus = tf.config.list_physical_devices("GPU")
    assert d.kind == ("GPU" if gpus else "CPU") and d.count == len(gpus)
    assert d.mixed_precision == bool(gpus)  # "auto": mixed float16 on a GPU only
    assert d.tensorflow.startswith(tf.__version__)
    if not gpus:
        assert d.reason.startswith("no GPU:") and d.kind in d.summary
    assert detect_device("float32").mixed_precision is False
    assert DeviceInfo.from_dict(d.to_dict()) == d


def test_a_sweep_records_its_device(done_sweep) -> None:
    d = json.loads(Path(done_sweep["json"]).read_text())
    device = DeviceInfo.from_dict(d["device"])
    assert device.kind in ("CPU", "GPU") and device.reason
    assert f"Device: {device.kind}" in done_sweep["stdout"]
    assert "Device" in (Path(done_sweep["run"]) / "report.md").read_text()
