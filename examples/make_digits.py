"""Write scikit-learn's handwritten digits (1,797 8x8 images, 10 classes) as an image
folder dataset: ``<out>/<digit>/<n>.png`` (32x32 grayscale PNGs), the included
example for ``tladvise`` and ``tltune``.

    python examples/make_digits.py [OUT]   # default: examples/digits
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def write_digits(out: Path, size: int = 32) -> int:
    data = load_digits()
    out.mkdir(parents=True, exist_ok=True)
    for i, (img, label) in enumerate(zip(data.images, data.target)):
        arr = (img / 16.0 * 255.0).clip(0, 255).astype(np.uint8)
        d = out / str(label)
        d.mkdir(exist_ok=True)
        Image.fromarray(arr, "L").resize((size, size), Image.Resampling.BICUBIC).save(d / f"{i:04d}.png")
    return len(data.target)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "digits"
    n = write_digits(target)
    print(f"wrote {n} images to {target}")
