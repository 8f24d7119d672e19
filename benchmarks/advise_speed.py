"""tladvise's wall time against one bare forward pass of the backbone over the same images.

Measured in one run, as whole processes (interpreter start, TensorFlow import, model
build, decoding and inference all included on both sides):

1. bare: ``keras.utils.image_dataset_from_directory`` + ``model.predict`` of MobileNetV2
   (no top, average pooling, ImageNet weights) over every image of every split;
2. cold: ``tladvise DATASET --cache-dir <empty dir>`` (health, BN statistics, features,
   probes, LogME, advice);
3. warm: the same ``tladvise`` command again (features from the cache).

Targets: cold / bare <= 1.5 and warm < 10 s. Exit status 1 if a target is missed.

    python benchmarks/advise_speed.py [DATASET] [--image-size 224]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "tf_flowers"

BARE = r"""
import sys, time
from pathlib import Path
import keras, tensorflow as tf
root, size, weights = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
model = keras.applications.MobileNetV2(include_top=False, pooling="avg", weights=weights,
                                       input_shape=(size, size, 3))
dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name in ("train", "val", "test")] or [root]
n = 0
for d in dirs:
    ds = keras.utils.image_dataset_from_directory(d, image_size=(size, size), batch_size=32,
                                                  shuffle=False, verbose=False)
    ds = ds.map(lambda x, y: keras.applications.mobilenet_v2.preprocess_input(x),
                num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    n += model.predict(ds, verbose=0).shape[0]
print(n)
"""


def _run(cmd: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return dt, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--image-size", type=int, default=224)
    args = ap.parse_args()
    from advisor.backbones import get_backbone, resolve_weights

    weights = resolve_weights(get_backbone("mobilenet_v2")).path
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    tladvise = [sys.executable, "-m", "tlcli.advise"]
    with tempfile.TemporaryDirectory() as cache:
        adv = tladvise + [str(args.dataset), "--image-size", str(args.image_size),
                          "--cache-dir", cache, "--quiet"]
        bare_s, out = _run([sys.executable, "-c", BARE, str(args.dataset), str(args.image_size),
                            str(weights)], env)
        n = int(out.strip().splitlines()[-1])
        cold_s, _ = _run(adv, env)
        warm_s, _ = _run(adv, env)
    ratio = cold_s / bare_s
    print(f"dataset {args.dataset.name}: {n} images at {args.image_size}px")
    print(f"bare forward pass (image_dataset_from_directory + predict): {bare_s:7.1f} s  ({n / bare_s:.1f} img/s)")
    print(f"tladvise, cold cache:                                     {cold_s:7.1f} s")
    print(f"tladvise, warm cache:                                     {warm_s:7.1f} s")
    print(f"ratio tladvise / bare forward pass = {ratio:.2f} (target <= 1.5); "
          f"warm rerun {warm_s:.1f} s (target < 10 s)")
    return 0 if ratio <= 1.5 and warm_s < 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
