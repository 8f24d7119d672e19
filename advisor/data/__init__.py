"""Datasets: finding the files (layouts, manifests) and decoding images robustly."""

from advisor.data._images import (
    AUTO_FRAMING,
    CROP_FRACTION,
    DEFAULT_MAX_PIXELS,
    FRAMINGS,
    THUMB_SIZE,
    check_framing,
    Decoded,
    ImageInfo,
    ImageReadError,
    decode_image,
    frame,
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
    "AUTO_FRAMING",
    "CROP_FRACTION",
    "check_framing",
    "DEFAULT_MAX_PIXELS",
    "FRAMINGS",
    "IMAGE_EXTENSIONS",
    "DatasetIndex",
    "Decoded",
    "ImageInfo",
    "ImageItem",
    "ImageReadError",
    "ScannedFile",
    "SkippedPath",
    "THUMB_SIZE",
    "default_workers",
    "iter_decoded",
    "scan_files",
    "decode_image",
    "frame",
    "hamming",
    "phash",
    "scan_layout",
    "subsample",
    "to_rgb",
]
