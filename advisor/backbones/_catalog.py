"""The backbone catalog: each entry is data (constructor, preprocessing, input size,
weight file, and the pattern of layer names that end a block)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.codec import Record
from advisor.errors import InputError

__all__ = ["IMAGENET_INPUT_SIZE", "BackboneSpec", "CATALOG", "get_backbone", "backbone_names"]

IMAGENET_INPUT_SIZE = 224  # the side most catalog weights were trained at (inception_v3: 299)


@dataclass(frozen=True)
class BackboneSpec(Record):
    """A ``keras.applications`` backbone described as data."""

    name: str
    constructor: str  # attribute of keras.applications
    preprocess_module: str  # module of keras.applications with preprocess_input
    input_size: int  # the side its ImageNet weights were trained at (the advisor's default)
    weights_file: str  # keras cache name of the no-top ImageNet weights
    weights_url: str
    block_end: str  # regex: names of layers that end a block (freeze boundaries)
    aliases: tuple[str, ...] = ()
    alpha: float | None = None  # width multiplier passed to the constructor (MobileNetV2)
    min_input_size: int = 32  # the smallest side the keras constructor accepts

    def matches(self, name: str) -> bool:
        key = name.lower().replace("-", "_")
        return key == self.name or key in self.aliases

    def is_block_end(self, layer_name: str) -> bool:
        return re.fullmatch(self.block_end, layer_name) is not None


_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_MNV2_BLOCKS = r"expanded_conv_project_BN|block_\d+_(add|project_BN)|out_relu"

CATALOG: tuple[BackboneSpec, ...] = (
    BackboneSpec(
        name="mobilenet_v2",
        constructor="MobileNetV2",
        preprocess_module="mobilenet_v2",
        input_size=IMAGENET_INPUT_SIZE,
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        weights_url=_KERAS_APPS + "mobilenet_v2/"
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        block_end=_MNV2_BLOCKS,
        aliases=("mobilenetv2", "mnv2"),
    ),
    BackboneSpec(  # the same architecture at a fifth of the width (410k parameters)
        name="mobilenet_v2_035",
        constructor="MobileNetV2",
        preprocess_module="mobilenet_v2",
        input_size=IMAGENET_INPUT_SIZE,
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5",
        weights_url=_KERAS_APPS + "mobilenet_v2/"
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5",
        block_end=_MNV2_BLOCKS,
        aliases=("mnv2_035", "mobilenet_v2_0.35", "mobilenetv2_035", "mobilenetv2_0.35"),
        alpha=0.35,
    ),
    BackboneSpec(
        name="efficientnet_b0",
        constructor="EfficientNetB0",
        preprocess_module="efficientnet",
        input_size=IMAGENET_INPUT_SIZE,
        weights_file="efficientnetb0_notop.h5",
        weights_url="https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
        block_end=r"block\d[a-z]_(add|project_bn)|top_activation",
        aliases=("efficientnetb0", "effnet_b0"),
    ),
    BackboneSpec(
        name="resnet50",
        constructor="ResNet50",
        preprocess_module="resnet",
        input_size=IMAGENET_INPUT_SIZE,
        weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_APPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        block_end=r"conv1_relu|conv\d_block\d+_out",
        aliases=("resnet_50",),
    ),
    BackboneSpec(  # caffe-style preprocessing: RGB -> BGR, ImageNet mean subtracted
        name="vgg16",
        constructor="VGG16",
        preprocess_module="vgg16",
        input_size=IMAGENET_INPUT_SIZE,
        weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_APPS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        block_end=r"block\d_pool",
        aliases=("vgg_16",),
    ),
    BackboneSpec(  # mixed9_0 / mixed9_1 are concatenations inside a block, not block ends
        name="inception_v3",
        constructor="InceptionV3",
        preprocess_module="inception_v3",
        input_size=299,
        weights_file="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_KERAS_APPS + "inception_v3/"
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        block_end=r"mixed\d+",
        aliases=("inceptionv3", "inception"),
        min_input_size=75,
    ),
)


def backbone_names() -> list[str]:
    return [s.name for s in CATALOG]


def get_backbone(name: str) -> BackboneSpec:
    """Look a backbone up by name or alias (case-insensitive)."""
    for spec in CATALOG:
        if spec.matches(name):
            return spec
    raise InputError(f"Unknown backbone {name!r}", expected=f"one of {backbone_names()}",
                     received=repr(name), fix="pass --backbone with a name from the catalog")
