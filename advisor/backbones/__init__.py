"""The backbone catalog, weight resolution and freeze boundaries."""

from advisor.backbones._build import (
    Boundary,
    block_boundaries,
    bn_layers,
    build_backbone,
    preprocess_fn,
    set_bn_momentum,
)
from advisor.backbones._catalog import (CATALOG, IMAGENET_INPUT_SIZE, BackboneSpec, backbone_names,
                                       get_backbone)
from advisor.backbones._tf import require_tensorflow
from advisor.backbones._weights import RANDOM, WeightsSource, keras_cache_dir, resolve_weights

__all__ = [
    "CATALOG",
    "IMAGENET_INPUT_SIZE",
    "RANDOM",
    "BackboneSpec",
    "Boundary",
    "WeightsSource",
    "backbone_names",
    "block_boundaries",
    "bn_layers",
    "build_backbone",
    "get_backbone",
    "keras_cache_dir",
    "preprocess_fn",
    "require_tensorflow",
    "resolve_weights",
    "set_bn_momentum",
]
