"""Checks on what the readable images are: size and shape, grayscale content, odd files in
a class, files whose content is another format than their extension says."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import PurePosixPath

import numpy as np

from advisor.data import ScannedFile
from advisor.health._base import HealthCheck
from advisor.health._data import HealthData, listing
from advisor.health._types import Finding

__all__ = ["TinyImages", "SmallImages", "ImageSizes", "Grayscale", "OddOneOut", "WrongExtension",
           "COLOUR_MODES", "FORMAT_EXTENSIONS"]

# Pillow modes that store colour channels (grayscale content in them is wasted storage,
# and a check of ``mode == "L"`` misses it).
COLOUR_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV", "P", "PA"})

_JPEG = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
# Pillow format -> the extensions that name it (MPO, the multi-picture JPEG of cameras,
# is a JPEG file and named like one). Formats not listed here are not judged.
FORMAT_EXTENSIONS: dict[str, frozenset[str]] = {
    "JPEG": _JPEG, "MPO": _JPEG | {".mpo"}, "PNG": frozenset({".png", ".apng"}),
    "GIF": frozenset({".gif"}), "BMP": frozenset({".bmp", ".dib"}),
    "TIFF": frozenset({".tif", ".tiff"}), "WEBP": frozenset({".webp"}),
    "PPM": frozenset({".ppm", ".pgm", ".pbm", ".pnm"}),
}
_KNOWN_EXTENSIONS = frozenset().union(*FORMAT_EXTENSIONS.values())


class TinyImages(HealthCheck):
    """Images whose shorter side is below ``tiny_side`` pixels: thumbnails, icons or
    crops with little to learn from. Severity ``info``."""

    produces = ("tiny_images",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        tiny = [f for f in data.readable if min(f.info.width, f.info.height) < t.tiny_side]
        if not tiny:
            return []
        rels = [f.item.rel for f in tiny]
        smallest = min(min(f.info.width, f.info.height) for f in tiny)
        return [Finding(
            check="tiny_images", severity="info",
            message=(f"{len(tiny)} images have a side below {t.tiny_side} px (smallest "
                     f"{smallest} px): {listing(rels, t.max_listed)}. Check that they are "
                     "real examples, not icons or broken crops."),
            files=tuple(rels), value=float(smallest), threshold=float(t.tiny_side),
            details={"sizes": {f.item.rel: [f.info.width, f.info.height] for f in tiny}})]


class SmallImages(HealthCheck):
    """Dataset level: the median shorter side is so far below the backbone input
    (``input_size``) that images are upsampled by ``upsample_factor`` or more; ImageNet
    features were learnt at another scale. Severity ``info``; the value is the factor."""

    produces = ("small_images",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        if not data.readable:
            return []
        sides = np.array([min(f.info.width, f.info.height) for f in data.readable])
        median = float(np.median(sides))
        factor = t.input_size / median
        if factor < t.upsample_factor:
            return []
        n_below = int((sides < t.input_size).sum())
        return [Finding(
            check="small_images", severity="info",
            message=(f"Images are smaller than the backbone input: median shorter side "
                     f"{median:g} px vs {t.input_size} px, so they are upsampled "
                     f"x{factor:.1f} ({n_below} of {len(sides)} images below {t.input_size} px). "
                     "Pretrained features may fit less well; consider a smaller input size "
                     "or fine-tuning."),
            value=round(factor, 3), threshold=t.upsample_factor,
            details={"median_side": median, "input_size": t.input_size,
                     "n_below_input": n_below, "min_side": int(sides.min()),
                     "max_side": int(sides.max())})]


class ImageSizes(HealthCheck):
    """Dataset level, on width x height. When one size covers at least
    ``odd_one_out_fraction`` of the readable images, the others are listed
    (``odd_size``: crops, rescans or files from another source look like this). When no
    size dominates and some images are not square, the spread of sizes and aspect ratios
    is reported (``mixed_sizes``): squashing them to the square input distorts them by
    different amounts, cropping cuts different borders. Images that are all square,
    whatever their sizes, are only scaled: nothing is reported. Severity ``info``."""

    produces = ("odd_size", "mixed_sizes")

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        files = list(data.readable)
        res = _outliers(files, lambda f: (f.info.width, f.info.height), t.odd_one_out_fraction)
        if res:
            (w, h), n_top, odd = res
            rels = [f.item.rel for f in odd]
            desc = "; ".join(f"{f.item.rel!r} is {f.info.width}x{f.info.height}"
                             for f in odd[:t.max_listed])
            more = len(odd) - t.max_listed
            n_not_square = sum(1 for f in odd if f.info.width != f.info.height)
            return [Finding(
                check="odd_size", severity="info",
                message=(f"{len(odd)} of {len(files)} images differ in size from the other "
                         f"{n_top} ({w}x{h})"
                         + (f", {n_not_square} of them not square" if n_not_square and w == h
                            else "")
                         + f": {desc}{f'; and {more} more' if more > 0 else ''}. Check them: "
                         "crops, rescans and files from another source look like this."),
                files=tuple(rels), value=round(n_top / len(files), 4),
                threshold=t.odd_one_out_fraction,
                details={"dominant": [w, h], "n_not_square": n_not_square,
                         "sizes": {f.item.rel: [f.info.width, f.info.height] for f in odd}})]
        sizes = {(f.info.width, f.info.height) for f in files}
        not_square = [f for f in files if f.info.width != f.info.height]
        if len(sizes) < 2 or not not_square:
            return []
        aspect = np.array([max(f.info.width, f.info.height) / min(f.info.width, f.info.height)
                           for f in files])
        short = np.array([min(f.info.width, f.info.height) for f in files])
        n_portrait = sum(1 for f in files if f.info.height > f.info.width)
        frac = len(not_square) / len(files)
        return [Finding(
            check="mixed_sizes", severity="info",
            message=(f"Image sizes vary: {len(sizes)} distinct sizes (shorter side "
                     f"{int(short.min())}..{int(short.max())} px); {len(not_square)} of "
                     f"{len(files)} images ({frac:.1%}) are not square, long/short side "
                     f"median {float(np.median(aspect)):.2f} and up to {float(aspect.max()):.2f} "
                     f"({n_portrait} portrait). Squashing them to the square input distorts "
                     "them by different amounts, cropping cuts their borders: compare both "
                     "(tltune --framing auto)."),
            value=round(frac, 4),
            details={"n_sizes": len(sizes), "n_not_square": len(not_square),
                     "n_portrait": n_portrait, "min_side": int(short.min()),
                     "max_side": int(short.max()),
                     "aspect_median": round(float(np.median(aspect)), 4),
                     "aspect_max": round(float(aspect.max()), 4)})]


class Grayscale(HealthCheck):
    """Grayscale content (three equal channels) stored in a colour mode, and, at or above
    ``grayscale_fraction`` of all readable images, a dataset-level finding: ImageNet
    colour features are partly unused. Severity ``info``."""

    produces = ("grayscale_as_rgb", "grayscale_dataset")

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        n = len(data.readable)
        if not n:
            return []
        gray = [f for f in data.readable if f.info.grayscale]
        as_rgb = [f for f in gray if f.info.mode in COLOUR_MODES]
        out = []
        if as_rgb:
            rels = [f.item.rel for f in as_rgb]
            frac = len(as_rgb) / n
            out.append(Finding(
                check="grayscale_as_rgb", severity="info",
                message=(f"{len(as_rgb)} of {n} images ({frac:.1%}) are grayscale content "
                         f"stored in a colour mode: {listing(rels, t.max_listed)}."
                         + ("" if frac >= t.grayscale_fraction else
                            " In a colour dataset these may be odd ones out: check them.")),
                files=tuple(rels), value=round(frac, 4),
                details={"n_gray_as_rgb": len(as_rgb), "n_readable": n,
                         "modes": dict(Counter(f.info.mode for f in as_rgb))}))
        frac_gray = len(gray) / n
        if frac_gray >= t.grayscale_fraction:
            out.append(Finding(
                check="grayscale_dataset", severity="info",
                message=(f"The dataset is grayscale: {len(gray)} of {n} images "
                         f"({frac_gray:.1%} >= {t.grayscale_fraction:.0%}) have no colour "
                         f"({len(as_rgb)} of them stored as colour). ImageNet colour features "
                         "are partly unused; fine-tuning usually helps more than on photos."),
                value=round(frac_gray, 4), threshold=t.grayscale_fraction,
                details={"n_gray": len(gray), "n_gray_as_rgb": len(as_rgb), "n_readable": n}))
        return out


def _outliers(files: list[ScannedFile], key, fraction: float
              ) -> tuple[object, int, list[ScannedFile]] | None:
    """(dominant key, its count, files with another key) when the dominant key covers at
    least ``fraction`` of ``files`` and something differs; else None."""
    counts = Counter(key(f) for f in files)
    if len(counts) < 2:
        return None
    top, n_top = counts.most_common(1)[0]
    if n_top / len(files) < fraction:
        return None
    return top, n_top, [f for f in files if key(f) != top]


class OddOneOut(HealthCheck):
    """Per class: files whose format/mode differs from at least ``odd_one_out_fraction``
    of the class (the one palette GIF among JPEG photos is often an "image not found"
    placeholder), and, as a milder finding, files whose extension differs (the only
    ``.jpeg`` among ``.jpg``). Severity ``info``."""

    produces = ("odd_one_out", "odd_extension")

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        by_class: dict[str, list[ScannedFile]] = defaultdict(list)
        for f in data.readable:
            by_class[f.item.label].append(f)
        out = []
        for label in sorted(by_class):
            files = by_class[label]
            flagged: set[str] = set()
            res = _outliers(files, lambda f: (f.info.format, f.info.mode), t.odd_one_out_fraction)
            if res:
                (fmt, mode), n_top, odd = res
                flagged = {f.item.rel for f in odd}
                desc = "; ".join(f"{f.item.rel!r} is {f.info.format}/{f.info.mode} "
                                 f"{f.info.width}x{f.info.height}" for f in odd[:t.max_listed])
                out.append(Finding(
                    check="odd_one_out", severity="info",
                    message=(f"{label!r}: {len(odd)} of {len(files)} files differ in format/mode "
                             f"from the other {n_top} ({fmt}/{mode}): {desc}"
                             f"{'; ...' if len(odd) > t.max_listed else ''}. Check them: "
                             "placeholders and stray files look like this."),
                    files=tuple(f.item.rel for f in odd), classes=(label,),
                    value=round(n_top / len(files), 4), threshold=t.odd_one_out_fraction,
                    details={"class": label, "dominant": [fmt, mode],
                             "odd": {f.item.rel: [f.info.format, f.info.mode] for f in odd}}))
            rest = [f for f in files if f.item.rel not in flagged]
            res = _outliers(rest, lambda f: PurePosixPath(f.item.rel).suffix.lower(),
                            t.odd_one_out_fraction)
            if res:
                ext, n_top, odd = res
                rels = [f.item.rel for f in odd]
                out.append(Finding(
                    check="odd_extension", severity="info",
                    message=(f"{label!r}: {len(odd)} of {len(rest)} files have another extension "
                             f"than the other {n_top} ({ext or 'none'}): "
                             f"{listing(rels, t.max_listed)}. Usually harmless; check that they "
                             "come from the same source."),
                    files=tuple(rels), classes=(label,),
                    value=round(n_top / len(rest), 4), threshold=t.odd_one_out_fraction,
                    details={"class": label, "dominant": ext,
                             "odd": {f.item.rel: PurePosixPath(f.item.rel).suffix.lower()
                                     for f in odd}}))
        return out


class WrongExtension(HealthCheck):
    """Files whose content is another image format than their extension names (PNG data
    in a ``.jpg``): readers that go by the name may reject or mis-decode them (the scan
    reads the content). Only extensions and formats of :data:`FORMAT_EXTENSIONS` are
    judged. Severity ``info``."""

    produces = ("wrong_extension",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        wrong = []
        for f in data.readable:
            ext = PurePosixPath(f.item.rel).suffix.lower()
            names = FORMAT_EXTENSIONS.get(f.info.format)
            if names is not None and ext in _KNOWN_EXTENSIONS and ext not in names:
                wrong.append(f)
        if not wrong:
            return []
        desc = "; ".join(f"{f.item.rel!r} is {f.info.format}/{f.info.mode}"
                         for f in wrong[:t.max_listed])
        more = len(wrong) - t.max_listed
        return [Finding(
            check="wrong_extension", severity="info",
            message=(f"{len(wrong)} files hold another format than their extension says: "
                     f"{desc}{f'; and {more} more' if more > 0 else ''}. "
                     "Readers that go by the extension may reject or mis-decode them: "
                     "rename them, or re-save them in the format their name says."),
            files=tuple(f.item.rel for f in wrong), value=float(len(wrong)),
            details={"formats": {f.item.rel: [f.info.format, f.info.mode] for f in wrong}})]
