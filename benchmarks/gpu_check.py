"""GPU check: the device a run trains on, and a full fine-tuning trial at 224 px with and
without mixed precision (images per second, GPU utilisation and peak GPU memory, and the
validation accuracy of both precisions).

On a machine with a GPU (``python benchmarks/gpu_check.py``): the same trial (MobileNetV2,
nothing frozen, augmentation on, same seed and images) runs in mixed float16 and in
float32; ``nvidia-smi`` is sampled every 0.5 s during each; TensorFlow's peak memory of
GPU:0 is read after each. Targets: both accuracies within 1 point. On a CPU it says that
no GPU was found and why, and runs the float32 trial on a small sample so that the path is
exercised. Exit 1 when a target is missed, 2 on bad input.

    python benchmarks/gpu_check.py                         # hymenoptera from ../shared
    python benchmarks/gpu_check.py --data DIR --epochs 4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ACC_TARGET = 0.01  # 1 point


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


class GpuSampler:
    """``nvidia-smi`` utilisation and memory, sampled in a thread."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self.util: list[float] = []
        self.mem_mb: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                                      "--format=csv,noheader,nounits", "-i", "0"],
                                     capture_output=True, text=True, timeout=5).stdout
                u, m = (float(v) for v in out.strip().splitlines()[0].split(","))
                self.util.append(u)
                self.mem_mb.append(m)
            except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
                pass
            self._stop.wait(self.every_s)

    def __enter__(self) -> "GpuSampler":
        if shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def summary(self) -> dict:
        if not self.util:
            return {"samples": 0}
        busy = [u for u in self.util if u > 0] or [0.0]
        return {"samples": len(self.util), "util_mean": round(sum(busy) / len(busy), 1),
                "util_max": max(self.util), "mem_max_mb": max(self.mem_mb)}


def trial(data, precision: str, epochs: int, batch: int, cache: Path) -> dict:
    """One full fine-tuning trial; images per second over its fine-tuning epochs after
    the first (which includes tracing)."""
    import tensorflow as tf

    from tuner.training import TrialRunner
    from tuner.trial import TrialParams

    runner = TrialRunner(data, backbone="mobilenet_v2", weights="imagenet", seed=0,
                         cache_dir=cache, precision=precision)
    params = TrialParams(freeze_block=0, head_lr=1e-3, backbone_lr=1e-4, dropout=0.2,
                         augmentation="light", batch_size=batch, epochs=epochs, patience=epochs)
    stamps: list[float] = []
    gpu = bool(tf.config.list_physical_devices("GPU"))
    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    with GpuSampler() as sampler:
        t0 = time.perf_counter()
        out = runner.run(params, lambda e, acc: stamps.append(time.perf_counter()))
        total = time.perf_counter() - t0
    ft = [h for h in out.history if h.phase == "finetune"]
    n_ft = len(ft)
    times = [b - a for a, b in zip(stamps[-n_ft - 1:-1], stamps[-n_ft:])][1:]  # after the 1st
    ips = len(data.y_train) / (sum(times) / len(times)) if times else None
    peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20 if gpu else None
    runner.close()
    return {"precision": precision, "mixed": runner.device.mixed_precision,
            "val_accuracy": out.val_accuracy, "finetune_epochs": n_ft,
            "images_per_s": round(ips, 1) if ips else None, "seconds": round(total, 1),
            "peak_gpu_mb": round(peak, 1) if peak is not None else None,
            "nvidia_smi": sampler.summary()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-images", type=int, default=None)
    args = ap.parse_args(argv)
    data_dir = args.data or default_data()
    if not data_dir.is_dir():
        print(f"no dataset at {data_dir}: pass --data DIR", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tuner.data import prepare_data
    from tuner.training import detect_device

    device = detect_device()
    print(f"device: {device.summary}")
    print(f"tensorflow: {device.tensorflow}")
    on_gpu = device.kind == "GPU"
    if not on_gpu:
        print("no GPU found: the float32 trial runs on the CPU on a small sample "
              "(no mixed-precision comparison, no GPU utilisation)")
    max_images = args.max_images or (None if on_gpu else 80)
    epochs = args.epochs if on_gpu else min(args.epochs, 3)
    with tempfile.TemporaryDirectory() as tmp:
        data = prepare_data(data_dir, input_size=args.size, max_images=max_images, seed=0,
                            cache_dir=Path(tmp))
        print(f"data: {data_dir.name}, {len(data.y_train)} train / {len(data.y_val)} val "
              f"images at {args.size} px; full fine-tune, {epochs} epochs, batch {args.batch}")
        rows = [trial(data, p, epochs, args.batch, Path(tmp) / p)
                for p in (("mixed", "float32") if on_gpu else ("float32",))]
    for r in rows:
        print(json.dumps(r))
    if not on_gpu:
        return 0
    mixed, f32 = rows
    gap = abs(mixed["val_accuracy"] - f32["val_accuracy"])
    speed = (mixed["images_per_s"] / f32["images_per_s"]
             if mixed["images_per_s"] and f32["images_per_s"] else float("nan"))
    ok = gap <= ACC_TARGET + 1e-9
    print(f"summary: {device.name}: mixed {mixed['images_per_s']} img/s, float32 "
          f"{f32['images_per_s']} img/s (x{speed:.2f}); GPU util mean "
          f"{mixed['nvidia_smi'].get('util_mean')} / {f32['nvidia_smi'].get('util_mean')} %; "
          f"peak GPU memory {mixed['peak_gpu_mb']} / {f32['peak_gpu_mb']} MiB; val accuracy "
          f"{mixed['val_accuracy']:.4f} / {f32['val_accuracy']:.4f} (gap {100 * gap:.1f} "
          f"points, target <= 1: {'PASS' if ok else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
