"""Datasets: finding the files (layouts, manifests) and decoding images robustly."""

from advisor.data._images import (
    DEFAULT_MAX_PIXELS,
    Decoded,
    ImageInfo,
    ImageReadError,
    decode_image,
    hamming,
    phash,
    to_rgb,
)
from advisor.data._scan import ScannedFile, default_workers, iter_decoded, scan_files
from advisor.data._layout import (
    IMAGE_EXTENSIONS,
    DatasetIndex,
    ImageItem,
    SkippedPath,
    scan_layout,
    subsample,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "DatasetIndex",
    "Decoded",
    "ImageInfo",
    "ImageItem",
    "ImageReadError",
    "ScannedFile",
    "SkippedPath",
    "default_workers",
    "iter_decoded",
    "scan_files",
    "decode_image",
    "hamming",
    "phash",
    "scan_layout",
    "subsample",
    "to_rgb",
]
