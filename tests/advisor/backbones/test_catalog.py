"""The backbone catalog directly: every backbone builds at a small size with random
weights, its freeze boundaries are ordered blocks ending at the last layer, and
ImageNet weights that cannot be had offline fail with a message saying how to provide
them (the download is the one thing faked: there is no network here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.backbones import (CATALOG, WeightsSource, backbone_names, block_boundaries,
                               build_backbone, get_backbone, resolve_weights)
from advisor.errors import InputError, WeightsError


@pytest.mark.parametrize("name", [s.name for s in CATALOG])
def test_every_backbone_builds_with_ordered_block_boundaries(name: str) -> None:
    import keras

    spec = get_backbone(name)
    model = build_backbone(spec, max(64, spec.min_input_size), WeightsSource("random", None))
    bounds = block_boundaries(model, spec)
    n = bounds[-1].block
    assert bounds[0].name == "input" and bounds[0].index == -1 and bounds[0].block == 0
    assert n >= 4 and [b.block for b in bounds] == list(range(n + 1))
    assert all(b.n_blocks == n for b in bounds)
    indices = [b.index for b in bounds]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert bounds[-1].index == len(model.layers) - 1  # the last boundary freezes everything
    assert all(model.layers[b.index].name == b.name for b in bounds[1:])
    keras.backend.clear_session()


def test_unknown_backbone_and_missing_file_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mobilenet_v2"):
        get_backbone("not_a_backbone")
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_weights(get_backbone("mobilenet_v2"), tmp_path / "missing.h5")
    assert "mobilenet_v2" in backbone_names()


@pytest.mark.parametrize("name", ["mobilenet_v2", "vgg16", "inception_v3"])
def test_offline_imagenet_weights_say_how_to_provide_them(name: str, tmp_path: Path,
                                                          monkeypatch) -> None:
    import advisor.backbones._weights as weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))

    def offline(spec):  # what keras.utils.get_file raises without a network
        raise Exception(f"URL fetch failure on {spec.weights_url}: [Errno -3] Temporary "
                        "failure in name resolution")

    monkeypatch.setattr(weights, "_download", offline)
    spec = get_backbone(name)
    with pytest.raises(WeightsError) as e:
        resolve_weights(spec, "imagenet")
    msg = e.value.message
    assert spec.name in msg and spec.weights_url in msg
    assert spec.weights_file in msg and str(tmp_path / "empty" / "models") in msg
    assert "--weights PATH" in msg and "--weights none" in msg and e.value.exit_code == 2
    (tmp_path / "empty" / "models").mkdir(parents=True)
    (tmp_path / "empty" / "models" / spec.weights_file).write_bytes(b"h5")
    assert resolve_weights(spec, "imagenet").kind == "cache"  # the cache is looked in first
