"""decode_image: every Pillow mode to sensible RGB, EXIF orientation, bad files by kind,
and the derived values (MD5, phash, grayscale flag, thumbnail)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from advisor.data import CROP_FRACTION, ImageReadError, decode_image, frame, hamming, to_rgb
from advisor.errors import ConfigError
from advisor.data._images import THUMB_SIZE


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def smooth(seed: int, size: int = 64) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)


# ------------------------------------------------------------------ modes

@pytest.mark.parametrize("mode, value, fmt, want", [
    ("1", 1, "PNG", (255, 255, 255)),
    ("1", 0, "BMP", (0, 0, 0)),
    ("L", 7, "PNG", (7, 7, 7)),
    ("LA", (90, 255), "PNG", (90, 90, 90)),      # opaque gray
    ("LA", (90, 0), "PNG", (255, 255, 255)),     # transparent -> white
    ("RGBA", (200, 10, 30, 255), "PNG", (200, 10, 30)),
    ("RGBA", (200, 10, 30, 0), "PNG", (255, 255, 255)),
    ("RGBA", (0, 0, 0, 128), "PNG", (127, 127, 127)),  # half-transparent black over white
    ("CMYK", (255, 0, 0, 0), "TIFF", (0, 255, 255)),   # full cyan
    ("CMYK", (0, 0, 0, 255), "TIFF", (0, 0, 0)),
    ("I;16", 65535, "PNG", (255, 255, 255)),   # 16-bit full scale -> 8-bit full scale
    ("I;16", 0, "PNG", (0, 0, 0)),
    ("I", 100, "TIFF", (100, 100, 100)),       # 32-bit ints already in 0..255 stay
    ("I", 1, "TIFF", (1, 1, 1)),               # ...also 0/1 masks (ints are not 0..1 floats)
    ("F", 0.5, "TIFF", (128, 128, 128)),       # floats in 0..1 are scaled by 255
    ("F", 200.0, "TIFF", (200, 200, 200)),
])
def test_mode_to_rgb(mode: str, value, fmt: str, want: tuple[int, int, int]) -> None:
    data = encode(Image.new(mode, (8, 8), value), fmt)
    dec = decode_image(data, 8)
    assert dec.info.mode == mode
    assert dec.pixels.dtype == np.uint8 and dec.pixels.shape == (8, 8, 3)
    np.testing.assert_allclose(dec.pixels[0, 0].astype(int), want, atol=1)


def test_16_bit_range_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    img = Image.frombytes("I;16", (64, 64), ramp.tobytes())
    rgb = np.asarray(to_rgb(img))
    assert rgb[0, 0, 0] == 0 and rgb[-1, -1, 0] == 255
    assert 120 <= rgb[32, 0, 0] <= 135  # mid-gray, not saturated


def test_palette_maps_to_its_colours_and_transparency_to_white() -> None:
    img = Image.new("P", (8, 8), 1)
    img.putpalette([0, 0, 0, 10, 200, 30, 250, 250, 0] + [0] * (256 * 3 - 9))
    img.paste(2, (0, 0, 4, 8))  # left half index 2 (yellow), right half index 1 (green)
    plain = decode_image(encode(img, "PNG"), 8)
    assert plain.info.mode == "P"
    assert tuple(plain.pixels[0, 0]) == (250, 250, 0) and tuple(plain.pixels[0, 7]) == (10, 200, 30)
    trans = decode_image(encode(img, "PNG", transparency=2), 8)  # yellow is transparent
    assert tuple(trans.pixels[0, 0]) == (255, 255, 255)
    assert tuple(trans.pixels[0, 7]) == (10, 200, 30)
    gif = decode_image(encode(img, "GIF", transparency=2), 8)
    assert gif.info.format == "GIF" and tuple(gif.pixels[0, 0]) == (255, 255, 255)


def test_exif_orientation_is_applied() -> None:
    arr = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high: left red, right blue
    arr[:, :20] = (255, 0, 0)
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the stored left column becomes the top row
    dec = decode_image(encode(Image.fromarray(arr), "JPEG", exif=exif, quality=95), 16)
    for img in (dec.pixels, dec.thumb):
        top, bottom = img[0].astype(int).mean(axis=0), img[-1].astype(int).mean(axis=0)
        assert top[0] > 200 and top[2] < 50, top  # red on top
        assert bottom[2] > 200 and bottom[0] < 50, bottom  # blue at the bottom
    plain = decode_image(encode(Image.fromarray(arr), "JPEG", quality=95), 16)
    assert plain.pixels[8, 0, 0] > 200 and plain.pixels[8, -1, 2] > 200  # unrotated: left red


# ------------------------------------------------------------------ bad files

def png_header(w: int, h: int) -> bytes:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def read_error(data: bytes, **kw) -> ImageReadError:
    with pytest.raises(ImageReadError) as e:
        decode_image(data, 32, **kw)
    return e.value


def test_empty_file() -> None:
    e = read_error(b"")
    assert (e.kind, e.n_bytes, e.md5) == ("empty", 0, hashlib.md5(b"").hexdigest())


@pytest.mark.parametrize("data", [b"hello, I am a text file\n", b"GIF89a", b"\x89PNG\r\n"])
def test_not_an_image(data: bytes) -> None:
    assert read_error(data).kind == "not_image"


@pytest.mark.parametrize("fmt, keep", [("JPEG", 0.5), ("JPEG", 0.1), ("PNG", 0.5), ("GIF", 0.5)])
def test_truncated(fmt: str, keep: float) -> None:
    data = encode(smooth(1, 96), fmt)
    e = read_error(data[: int(len(data) * keep)])
    assert e.kind == "truncated", e.detail
    assert e.n_bytes == int(len(data) * keep)


def test_corrupt_header_is_unreadable() -> None:
    e = read_error(b"BM" + b"\0" * 60)
    assert e.kind == "unreadable" and "BMP" in e.detail


def test_decompression_bomb_is_refused_before_decoding() -> None:
    e = read_error(png_header(100_000, 100_000))  # 10 G pixels in a 70-byte file
    assert e.kind == "bomb" and "10,000,000,000" in e.detail and "100,000,000" in e.detail
    small = encode(smooth(2, 100), "PNG")
    assert read_error(small, max_pixels=9_999).kind == "bomb"
    assert decode_image(small, 32, max_pixels=10_000).info.width == 100


# ------------------------------------------------------------------ derived values

def test_info_fields() -> None:
    data = encode(smooth(3, 64).resize((80, 50)), "JPEG", quality=90)
    dec = decode_image(data)
    info = dec.info
    assert (info.width, info.height, info.mode, info.format) == (80, 50, "RGB", "JPEG")
    assert info.md5 == hashlib.md5(data).hexdigest() and info.n_bytes == len(data)
    assert len(info.phash) == 16 and set(info.phash) <= set("0123456789abcdef")
    # the hash describes the picture, not the file: a lossless copy hashes (almost) the same,
    # another picture does not
    same = decode_image(encode(smooth(3, 64).resize((80, 50)), "PNG")).info.phash
    other = decode_image(encode(smooth(7, 64).rotate(90).resize((80, 50)), "PNG")).info.phash
    assert hamming(info.phash, same) <= 4 < hamming(info.phash, other)
    assert info.n_frames == 1 and dec.pixels is None
    assert dec.thumb.shape == (THUMB_SIZE, THUMB_SIZE, 3) and dec.thumb.dtype == np.uint8


def test_big_jpeg_is_decoded_to_the_requested_size() -> None:
    data = encode(smooth(4, 64).resize((1600, 1200)), "JPEG")
    dec = decode_image(data, 96)
    assert dec.pixels.shape == (96, 96, 3)
    assert (dec.info.width, dec.info.height) == (1600, 1200)  # the file's size, not the draft's


# ------------------------------------------------------------------ framing

def _bands(w: int, h: int, inner: int) -> Image.Image:
    """Red image with a green vertical band ``inner`` pixels wide in the middle."""
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = 255
    a[:, (w - inner) // 2:(w + inner) // 2] = (0, 255, 0)
    return Image.fromarray(a)


def test_squash_keeps_the_whole_wide_image_crop_keeps_its_centre() -> None:
    img = _bands(300, 100, 100)  # 3:1, green in the middle third
    squash, crop = frame(img, 32, "squash"), frame(img, 32, "crop")
    assert squash.shape == crop.shape == (32, 32, 3)
    # squash: red left and right thirds survive; crop: the central 87.5 x 87.5 is all green
    assert squash[:, 0, 0].min() > 200 and squash[:, -1, 0].min() > 200
    assert crop[..., 1].min() > 200 and crop[..., 0].max() < 50


def test_crop_of_a_square_image_cuts_a_border_of_one_sixteenth() -> None:
    a = np.zeros((128, 128, 3), np.uint8)
    a[6:-6, 6:-6] = 255  # a 6-pixel black border, inside the 8 pixels crop cuts per side
    img = Image.fromarray(a)
    assert (1 - CROP_FRACTION) / 2 * 128 == 8
    assert frame(img, 64, "squash")[0].max() < 50  # the border is still there
    assert frame(img, 64, "crop").min() > 200  # gone
    with pytest.raises(ConfigError, match="framing"):
        frame(img, 64, "pad")


def test_decode_image_frames_big_jpegs_from_enough_pixels() -> None:
    # draft() must keep at least size / CROP_FRACTION on the short side for crop
    data = encode(_bands(2400, 1200, 1200), "JPEG", quality=95)
    dec = decode_image(data, 96, framing="crop")
    assert dec.pixels.shape == (96, 96, 3)
    assert dec.pixels[..., 1].mean() > 230 and dec.pixels[..., 0].mean() < 25
    squash = decode_image(data, 96).pixels
    assert squash[:, :10, 0].mean() > 230  # the red sides
    with pytest.raises(ConfigError, match="framing"):
        decode_image(data, 96, framing="pad")


def test_animated_gif_frames_are_counted() -> None:
    frames = [smooth(s, 32).convert("P") for s in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buf.getvalue(), 16).info.n_frames == 3


def test_grayscale_flag_is_about_content_not_mode() -> None:
    gray_rgb = smooth(5).convert("L").convert("RGB")
    assert decode_image(encode(gray_rgb, "JPEG", quality=90)).info.grayscale  # JPEG noise ok
    assert decode_image(encode(gray_rgb.convert("L"), "PNG")).info.grayscale
    assert not decode_image(encode(smooth(5), "PNG")).info.grayscale
    tinted = np.asarray(gray_rgb).astype(np.int16)
    tinted[..., 2] = np.clip(tinted[..., 2] + 25, 0, 255)  # a sepia-like tint is colour
    assert not decode_image(encode(Image.fromarray(tinted.astype(np.uint8)), "PNG")).info.grayscale


def test_phash_survives_re_encoding_and_separates_pictures() -> None:
    a = smooth(6, 128)
    h_png = decode_image(encode(a, "PNG")).info.phash
    h_jpg = decode_image(encode(a.resize((100, 100)), "JPEG", quality=70)).info.phash
    h_other = decode_image(encode(smooth(7, 128), "PNG")).info.phash
    assert hamming(h_png, h_jpg) <= 4
    assert hamming(h_png, h_other) > 12


def test_hamming() -> None:
    assert hamming("ff", "00") == 8
    assert hamming(0b1011, 0b0001) == 2
    assert hamming("ffffffffffffffff", 0) == 64
    assert hamming("0a", "0a") == 0
