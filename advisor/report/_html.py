"""A tiny HTML builder and the single-file HTML renderer of a :class:`Document`.

Every string that is not :class:`Markup` is escaped with :func:`html.escape` on
the way in (text and attribute values alike), so text from the data (class names,
file names, messages) can never become markup. Images are embedded as ``data:``
URIs; the page has inline CSS, no script and no network reference, and a
Content-Security-Policy that forbids both.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable

from advisor.report._doc import (
    Block,
    Bullets,
    Callout,
    Code,
    Document,
    Figure,
    Figures,
    Gallery,
    Heading,
    KeyValues,
    Table,
    Text,
    Tile,
)

__all__ = ["Markup", "escape", "el", "data_uri", "render_html"]

_NAME = re.compile(r"[a-z][a-z0-9-]*")
_VOID = frozenset({"img", "meta", "br", "hr", "link"})
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class Markup(str):
    """A string that is already HTML (built by :func:`el`); it is not escaped again."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as HTML text: markup stays as it is, anything else is escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def _children(items: Iterable) -> str:
    out = []
    for c in items:
        if c is None:
            continue
        if isinstance(c, (str, int, float)):
            out.append(escape(c))
        else:
            out.append(_children(c))
    return "".join(out)


def el(tag: str, *children: object, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>``; ``class_`` gives ``class``, ``_`` in names gives ``-``.

    Attribute values are always escaped; ``None``/``False`` leave an attribute out.
    """
    if not _NAME.fullmatch(tag):
        raise ValueError(f"bad tag name {tag!r}")
    parts = [tag]
    for k, v in attrs.items():
        if v is None or v is False:
            continue
        name = k.rstrip("_").replace("_", "-")
        if not _NAME.fullmatch(name):
            raise ValueError(f"bad attribute name {name!r}")
        parts.append(name if v is True else f'{name}="{html.escape(str(v), quote=True)}"')
    head = "<" + " ".join(parts) + ">"
    if tag in _VOID:
        return Markup(head)
    return Markup(head + _children(children) + f"</{tag}>")


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _jpeg_or_png(data: bytes) -> str:
    return "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"


CSS = """
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#dde2ea;--bg:#f5f7fa;--card:#fff;--accent:#2456a6;
--ok:#1f7a3d;--warn:#a86500;--err:#b3261e;--info:#2456a6}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 28px 48px}
header h1{font-size:26px;margin:0 0 4px}
header p{margin:0;color:var(--muted);word-break:break-all}
nav{margin:14px 0 8px;display:flex;flex-wrap:wrap;gap:6px}
nav a{font-size:13px;color:var(--accent);text-decoration:none;border:1px solid var(--line);
background:var(--card);border-radius:14px;padding:2px 10px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 22px;
margin:18px 0}
section>h2{font-size:19px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
p{margin:8px 0}
p.muted{color:var(--muted);font-size:13px}
p.warning{color:var(--warn)} p.error{color:var(--err)}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13.5px}
.tw{overflow-x:auto;max-width:100%}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f6;text-align:left;font-weight:600}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
td.r{white-space:nowrap} th{vertical-align:bottom}
tr.hl td{background:#fff7d6;font-weight:600}
caption{caption-side:bottom;color:var(--muted);font-size:12px;text-align:left;padding-top:4px}
table.kv th{background:none;font-weight:500;color:var(--muted);width:200px;white-space:nowrap}
table.kv td{word-break:break-word}
pre{background:#1e2430;color:#e8edf5;padding:12px 14px;border-radius:6px;overflow-x:auto;
font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;
word-break:break-all}
figure{margin:8px 0;text-align:center}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:12px}
.gallery{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.group{display:flex;gap:6px;padding:6px;border:1px solid var(--line);border-radius:6px;
background:#fafbfc}
.tile{width:108px;font-size:11px;color:var(--muted);text-align:center;overflow-wrap:anywhere}
.tile img{display:block;margin:0 auto 3px;max-width:96px;max-height:96px;border-radius:3px}
.tile .none{width:96px;height:72px;margin:0 auto 3px;display:flex;align-items:center;
justify-content:center;background:#eceff3;border-radius:3px;color:var(--err);padding:4px}
.tile .em{color:var(--err);font-weight:600}
.more{color:var(--muted);font-size:13px;margin:4px 0 10px}
.callout{border:1px solid var(--line);border-left:5px solid var(--info);border-radius:6px;
padding:10px 14px;margin:12px 0;background:#fbfcfe}
.callout h3.ctitle{margin:2px 0 6px}
.callout.error{border-left-color:var(--err)} .callout.warning{border-left-color:var(--warn)}
.callout.info{border-left-color:var(--info)}
.callout.verdict{border:2px solid var(--ok);border-left-width:8px;background:#f1faf4;
padding:16px 20px}
.callout.verdict>h3.ctitle{font-size:24px;margin:0 0 8px;color:var(--ok)}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;
letter-spacing:.04em;border-radius:10px;padding:1px 8px;margin-right:8px;color:#fff;
background:var(--info);vertical-align:2px}
.badge.error{background:var(--err)} .badge.warning{background:var(--warn)}
.badge.verdict{background:var(--ok)}
footer{color:var(--muted);font-size:12px;margin-top:24px}
"""


def _table(t: Table) -> Markup:
    head = el("tr", [el("th", h, class_="r" if t.column_align(i) == "r" else None)
                     for i, h in enumerate(t.headers)])
    rows = []
    for ri, row in enumerate(t.rows):
        cells = [el("td", c, class_="r" if t.column_align(i) == "r" else None)
                 for i, c in enumerate(row)]
        rows.append(el("tr", cells, class_="hl" if ri in t.highlight else None))
    return el("div", el("table", el("caption", t.caption) if t.caption else None,
                        el("thead", head), el("tbody", rows)), class_="tw")


def _figure(f: Figure) -> Markup:
    return el("figure", el("img", src=data_uri(f.png, "image/png"), alt=f.caption),
              el("figcaption", f.caption))


def _tile(t: Tile) -> Markup:
    if t.image is not None:
        pic = el("img", src=data_uri(t.image, _jpeg_or_png(t.image)), alt=t.caption)
    else:
        pic = el("div", t.note or "no image", class_="none")
    return el("div", pic, el("div", t.caption),
              el("div", t.emphasis, class_="em") if t.emphasis else None,
              class_="tile", title=t.caption)


def _gallery(g: Gallery) -> Markup:
    groups = [el("div", [_tile(t) for t in grp], class_="group") for grp in g.groups]
    more = el("p", f"... and {g.more} more", class_="more") if g.more else None
    return Markup(el("div", groups, class_="gallery") + (more or ""))


def _block(b: Block) -> Markup:
    if isinstance(b, Text):
        return el("p", b.text, class_=b.style or None)
    if isinstance(b, Heading):
        return el("h3", b.text)
    if isinstance(b, Bullets):
        return el("ul", [el("li", i) for i in b.items])
    if isinstance(b, KeyValues):
        return el("table", el("tbody", [el("tr", el("th", k), el("td", v)) for k, v in b.items]),
                  class_="kv")
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return _figure(b)
    if isinstance(b, Figures):
        return el("div", [_figure(f) for f in b.items], class_="figs")
    if isinstance(b, Gallery):
        return _gallery(b)
    if isinstance(b, Code):
        return el("pre", el("code", b.text))
    if isinstance(b, Callout):
        badge = el("span", b.badge, class_=f"badge {b.level}") if b.badge else None
        return el("div", el("h3", badge, b.title, class_="ctitle"), [_block(x) for x in b.blocks],
                  class_=f"callout {b.level}")
    raise TypeError(f"unknown block {type(b).__name__}")


def render_html(doc: Document) -> str:
    """The whole page as one self-contained HTML string."""
    nav = el("nav", [el("a", s.title, href=f"#{s.key}") for s in doc.sections])
    sections = [el("section", el("h2", s.title), [_block(b) for b in s.blocks], id=s.key)
                for s in doc.sections]
    head = el("head", el("meta", charset="utf-8"),
              el("meta", http_equiv="Content-Security-Policy", content=CSP),
              el("meta", name="viewport", content="width=device-width, initial-scale=1"),
              el("title", doc.title), el("style", Markup(CSS)))
    body = el("body", el("main", el("header", el("h1", doc.title), el("p", doc.subtitle)), nav,
                         sections, el("footer", doc.footer) if doc.footer else None))
    return "<!DOCTYPE html>\n" + el("html", head, body, lang="en") + "\n"
