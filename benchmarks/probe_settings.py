"""The measurements behind the linear probe's fixed settings (``advisor/measure/_probe.py``).

For each dataset: MobileNetV2 ImageNet pooled features (one pass, every split), then the
probe's cross-validated accuracy and CPU time for C in {0.01, 0.03, 0.1}, with all
dimensions and with PCA to 256, plus the pixel baseline and LogME.

Results (128 px, all images of train+val, 2 shared CPU cores, one BLAS thread):

| dataset (N) | C | all dims | PCA 256 | pixels | LogME |
|---|---|---|---|---|---|
| hymenoptera (398) | 0.01 / 0.1 | 0.925 / 0.935 | 0.925 / 0.930 | 0.638 / 0.621 | -0.319 |
| eurosat5 (1300) | 0.01 / 0.1 | 0.959 / 0.959 | 0.957 / 0.958 | 0.782 / 0.762 | 0.280 |
| chest_xray (1624) | 0.01 / 0.1 | 0.926 / 0.920 | 0.924 / 0.908 | 0.919 / 0.922 | -0.142 |
| tf_flowers (3119) | 0.01 / 0.1 | 0.855 / 0.847 | 0.842 / 0.809 | 0.489 / 0.450 | -0.041 |

tf_flowers (3119 x 1280), C = 0.01: probe 3.1 s CPU, pixel probe 4.0 s, LogME 0.7 s.

    python benchmarks/probe_settings.py [--datasets hymenoptera,tf_flowers] [--image-size 128]
        [--max-images N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def features(name: str, size: int, max_images: int | None):
    from advisor.backbones import get_backbone, resolve_weights
    from advisor.data import scan_layout, subsample
    from advisor.measure import extract_features

    index = subsample(scan_layout(DATA / name), max_images, seed=0)
    spec = get_backbone("mobilenet_v2")
    fp = extract_features(index.items, spec, resolve_weights(spec, "imagenet"), size)
    labels = np.array([f.item.label for f in fp.files])[fp.ok]
    return fp.features, fp.thumbs, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="hymenoptera,eurosat5,chest_xray,tf_flowers")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--max-images", type=int, default=None)
    args = ap.parse_args()

    from advisor.measure import _probe, logme, pixel_features, probe

    for name in args.datasets.split(","):
        x, thumbs, y = features(name, args.image_size, args.max_images)
        pixels = pixel_features(thumbs)
        print(f"{name}: N={len(y)} D={x.shape[1]} LogME={logme(x, y):.3f}")
        for c in (0.01, 0.03, 0.1):
            _probe.PROBE_C = c  # a benchmark may vary the constant; the library never does
            cells = []
            for label, feats, dims in (("all dims", x, None), ("PCA 256", x, 256), ("pixels", pixels, None)):
                t = time.process_time()
                r = probe(feats, y, max_dims=dims)
                cells.append(f"{label} {r.accuracy:.3f}±{r.std:.3f} ({time.process_time() - t:.1f}s cpu, "
                             f"{r.n_unconverged} unconverged)")
            print(f"  C={c:<5} " + " | ".join(cells))


if __name__ == "__main__":
    main()
