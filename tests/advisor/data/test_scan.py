"""The one decoding pass: order kept, bad files recorded with their reason, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from advisor.data import ScannedFile, iter_decoded, scan_files, scan_layout


def make(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    for label, colour in (("a", (220, 20, 20)), ("b", (20, 20, 220))):
        (root / label).mkdir(parents=True)
        for i in range(40):  # more files than the decoding window, to test the order
            Image.new("RGB", (20 + i, 24), colour).save(root / label / f"{i:02d}.png")
    (root / "a" / "zz_empty.png").write_bytes(b"")
    (root / "b" / "readme.txt").write_text("text")
    return root


def test_scan_keeps_order_and_records_errors(tmp_path: Path) -> None:
    index = scan_layout(make(tmp_path))
    ticks = []
    files = scan_files(index, workers=3, progress=ticks.append)
    assert [f.item for f in files] == list(index.items) and len(ticks) == len(files) == 82
    bad = {f.item.rel: (f.error_kind, f.error) for f in files if not f.ok}
    assert bad == {"a/zz_empty.png": ("empty", "the file is empty (0 bytes)"),
                   "b/readme.txt": ("not_image", "not an image (extension '.txt')")}
    ok = [f for f in files if f.ok]
    assert [f.info.width for f in ok[:40]] == list(range(20, 60))  # order within a class


def test_iter_decoded_gives_model_input_and_thumbnails(tmp_path: Path) -> None:
    index = scan_layout(make(tmp_path))
    out = list(iter_decoded(index.items, 32, workers=2))
    assert len(out) == len(index.items)
    for sf, pixels, thumb in out:
        if sf.ok:
            assert pixels.shape == (32, 32, 3) and thumb.shape == (16, 16, 3)
            assert int(np.argmax(pixels[16, 16])) == (0 if sf.item.label == "a" else 2)
        else:
            assert pixels is None and thumb is None


def test_scanned_file_round_trips_through_json(tmp_path: Path) -> None:
    root = make(tmp_path)
    files = scan_files(scan_layout(root), workers=2)
    again = [ScannedFile.from_dict(json.loads(json.dumps(f.to_dict())), root) for f in files]
    assert again == files
