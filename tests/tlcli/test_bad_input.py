"""``tladvise`` on bad input: each case exits with the right code and says what is wrong.

Exit codes: 0 ok, 2 bad input, 1 internal error. Messages are compared on their key
words after collapsing whitespace (rich wraps long lines). The only mock is the
weights download (no network in tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tlcli.advise import app
from tests.conftest import write_image_folder

FAST = ["--weights", "none", "--image-size", "96", "--no-cache"]
HOSTILE_HTML = "<img src=x onerror=alert(1)>"
HOSTILE_MARKUP = "[bold]x[/bold]"


def tladvise(*args):
    """Run the CLI in-process; returns (exit code, whitespace-collapsed output, result)."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"},
                                prog_name="tladvise")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash, not an exit code: show the traceback
    return result.exit_code, " ".join(result.output.split()), result


def assert_says(out: str, *words: str) -> None:
    for w in words:
        assert w.lower() in out.lower(), f"{w!r} not in output: {out[:800]}"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "good", {"ants": 6, "bees": 6})


# --- the dataset path -------------------------------------------------------------------

def test_missing_path(tmp_path):
    code, out, _ = tladvise(tmp_path / "nope", *FAST)
    assert code == 2
    assert_says(out, "does not exist", "nope", "Fix:")


def test_file_instead_of_folder(tmp_path):
    f = tmp_path / "photo.jpg"
    f.write_bytes(b"not a folder")
    code, out, _ = tladvise(f, *FAST)
    assert code == 2
    assert_says(out, "is a file, not a dataset", "folder of class folders")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, _ = tladvise(tmp_path / "empty", *FAST)
    assert code == 2
    assert_says(out, "No image files found", "one subfolder per class")


def test_folder_with_one_class(tmp_path):
    write_image_folder(tmp_path / "one", {"cats": 5})
    code, out, _ = tladvise(tmp_path / "one", *FAST)
    assert code == 2
    assert_says(out, "at least two classes", "'cats'")


def test_class_folders_without_images(tmp_path):
    for c in ("cats", "dogs"):
        (tmp_path / "ds" / c).mkdir(parents=True)
    code, out, _ = tladvise(tmp_path / "ds", *FAST)
    assert code == 2
    assert_says(out, "No image files found", "2 empty class folders")


def test_mixed_split_and_class_folders(tmp_path):
    write_image_folder(tmp_path / "ds", {"a": 3, "b": 3}, split="train")
    write_image_folder(tmp_path / "ds", {"cats": 3})
    code, out, _ = tladvise(tmp_path / "ds", *FAST)
    assert code == 2
    assert_says(out, "mixes split folders", "'cats'", "train/")


def test_csv_manifest_without_header(tmp_path, good):
    m = good / "manifest.csv"
    m.write_text("ants/img_000.png,ants\nbees/img_000.png,bees\n")
    code, out, _ = tladvise(m, *FAST)
    assert code == 2
    assert_says(out, "no 'path' and 'label' columns", "header line")


@pytest.mark.slow
def test_only_non_image_files(tmp_path):
    for c in ("cats", "dogs"):
        (tmp_path / "ds" / c).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "ds" / c / f"notes_{i}.txt").write_text("not an image")
    code, out, _ = tladvise(tmp_path / "ds", *FAST)
    assert code == 2
    assert_says(out, "No readable images", "6 files, none readable")


@pytest.mark.slow
def test_all_images_corrupt(tmp_path):
    for c, ext, junk in (("cats", ".jpg", b"\xff\xd8\xff\xe0 garbage"), ("dogs", ".png", b"\x89PNG\r\n\x1a\nbad")):
        (tmp_path / "ds" / c).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "ds" / c / f"x{i}{ext}").write_bytes(junk)
    code, out, _ = tladvise(tmp_path / "ds", *FAST)
    assert code == 2
    assert_says(out, "No readable images", "none readable")


@pytest.mark.slow
def test_csv_with_missing_files_reports_them_and_continues(tmp_path, good):
    rows = [f"{c}/img_{i:03d}.png,{c}" for c in ("ants", "bees") for i in range(6)]
    rows += ["ants/gone_1.png,ants", "bees/gone_2.png,bees"]
    m = good / "manifest.csv"
    m.write_text("path,label\n" + "\n".join(rows) + "\n")
    out_json = tmp_path / "advice.json"
    code, out, _ = tladvise(m, *FAST, "--json", out_json)
    assert code == 0, out
    assert_says(out, "not found", "'ants/gone_1.png'", "'bees/gone_2.png'")
    d = json.loads(out_json.read_text())
    found = [f for f in d["health"]["findings"] if f["check"] == "skipped_paths"]
    assert len(found) == 1 and sorted(found[0]["files"]) == ["ants/gone_1.png", "bees/gone_2.png"]
    assert "not found" in found[0]["message"]
    assert (d["profile"]["n_files"], d["profile"]["n_readable"]) == (12, 12)


@pytest.mark.slow
def test_truncated_jpeg_among_good_ones_is_reported_not_a_crash(tmp_path, good):
    buf = tmp_path / "full.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, quality=90)
    data = buf.read_bytes()
    (good / "bees" / "cut.jpg").write_bytes(data[: len(data) // 2])
    out_json = tmp_path / "advice.json"
    code, out, _ = tladvise(good, *FAST, "--json", out_json)
    assert code == 0, out
    d = json.loads(out_json.read_text())
    assert (d["profile"]["n_files"], d["profile"]["n_readable"]) == (13, 12)
    flagged = [f for f in d["health"]["findings"] if "bees/cut.jpg" in json.dumps(f)]
    assert flagged and any("truncated" in json.dumps(f).lower() for f in flagged)


# --- options ------------------------------------------------------------------------------

def test_unknown_backbone(good):
    code, out, _ = tladvise(good, "--backbone", "vgg99", *FAST)
    assert code == 2
    assert_says(out, "Unknown backbone 'vgg99'", "mobilenet_v2")


def test_weights_path_missing(tmp_path, good):
    code, out, _ = tladvise(good, "--weights", tmp_path / "nope.h5", "--image-size", "96", "--no-cache")
    assert code == 2
    assert_says(out, "does not exist", "nope.h5", "omit --weights")


@pytest.mark.slow
def test_weights_path_not_a_weights_file(tmp_path, good):
    w = tmp_path / "weights.h5"
    w.write_text("this is not HDF5")
    code, out, _ = tladvise(good, "--weights", w, "--image-size", "96", "--no-cache")
    assert code == 2
    assert_says(out, "Cannot load the weights", "weights.h5", "mobilenet_v2")


def test_offline_without_weights(tmp_path, good, monkeypatch):
    import advisor.backbones._weights as weights_mod

    def no_network(spec):
        raise Exception(f"URL fetch failure on {spec.weights_url}: Temporary failure in name resolution")

    monkeypatch.setattr(weights_mod, "_download", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras"))
    code, out, _ = tladvise(good, "--image-size", "96", "--no-cache")
    assert code == 2
    assert_says(out, "not available offline", "download failed", "--weights none",
                str(tmp_path / "empty_keras"))


@pytest.mark.parametrize("n,words", [("0", ["--max-images must be positive"]),
                                     ("3", ["--max-images is too small", "at least 2 images per class (4)"])])
def test_max_images_too_small(good, n, words):
    code, out, _ = tladvise(good, "--max-images", n, *FAST)
    assert code == 2
    assert_says(out, *words)


@pytest.mark.parametrize("size", ["0", "5000", "-3"])
def test_image_size_invalid(good, size):
    code, out, _ = tladvise(good, "--weights", "none", "--image-size", size, "--no-cache")
    assert code == 2
    assert_says(out, "Input size out of range", "32..1024", f"Received: {size}")


def test_image_size_not_a_number(good):
    code, out, _ = tladvise(good, "--image-size", "big", *FAST[:2])
    assert code == 2  # the option parser's usage error
    assert_says(out, "Invalid value for '--image-size'", "integer", "tladvise --help")


def test_json_output_under_a_file(tmp_path, good):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    code, out, _ = tladvise(good, *FAST, "--json", blocker / "advice.json")
    assert code == 2
    assert_says(out, "Cannot create the folder for the JSON output", "blocker")


def test_json_output_is_a_folder(tmp_path, good):
    code, out, _ = tladvise(good, *FAST, "--json", tmp_path)
    assert code == 2
    assert_says(out, "is a folder", "pass a file name")


# --- hostile class names ------------------------------------------------------------------

@pytest.mark.slow
def test_hostile_class_names_are_shown_literally_and_escaped_in_html(tmp_path):
    root = tmp_path / "ds"
    write_image_folder(root, {"a": 6, "b": 6})
    rows = [f"a/img_{i:03d}.png,{HOSTILE_HTML}" for i in range(6)]
    rows += [f"b/img_{i:03d}.png,{HOSTILE_MARKUP}" for i in range(6)]
    m = root / "manifest.csv"
    m.write_text("path,label\n" + "\n".join(f'"{r.split(",", 1)[0]}","{r.split(",", 1)[1]}"' for r in rows))
    out_json, report = tmp_path / "advice.json", tmp_path / "report"
    code, out, res = tladvise(m, *FAST, "--json", out_json, "--report", report)
    assert code == 0, out
    d = json.loads(out_json.read_text())
    assert sorted(d["profile"]["classes"]) == sorted([HOSTILE_HTML, HOSTILE_MARKUP])
    # rich must print the markup-like name as text, not turn it into bold "x"
    assert HOSTILE_MARKUP in res.output
    html = "\n".join(p.read_text() for p in report.glob("*.html"))
    assert html and HOSTILE_HTML not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.slow
def test_hostile_folder_name_on_the_terminal(tmp_path):
    write_image_folder(tmp_path / "ds", {HOSTILE_HTML: 6, "[red]y": 6})
    code, out, res = tladvise(tmp_path / "ds", *FAST)
    assert code == 0, out
    assert "[red]y" in res.output  # literal, not a colour tag
    assert HOSTILE_HTML in res.output


# --- the installed command ---------------------------------------------------------------

def _installed() -> str:
    exe = Path(sys.executable).with_name("tladvise")
    found = str(exe) if exe.is_file() else shutil.which("tladvise")
    if not found:
        pytest.skip("the tladvise console script is not installed (pip install -e . --no-deps)")
    return found


@pytest.mark.slow
def test_installed_command_writes_json(tmp_path, good):
    out_json = tmp_path / "advice.json"
    p = subprocess.run([_installed(), str(good), *FAST, "-q", "--json", str(out_json)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(out_json.read_text())
    assert d["advice"]["scenario"] in {"feature_extractor", "partial_freeze", "full_finetune",
                                       "from_scratch"}


def test_installed_command_missing_path_exits_2(tmp_path):
    p = subprocess.run([_installed(), str(tmp_path / "nope")], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 2
    assert "does not exist" in " ".join(p.stderr.split())
    assert "Traceback" not in p.stderr
