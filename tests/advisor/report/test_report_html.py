"""The HTML builder and the Markdown escaping: data can never become markup."""

from __future__ import annotations

import pytest

from advisor.report._doc import (
    Bullets,
    Callout,
    Code,
    Document,
    Gallery,
    Heading,
    KeyValues,
    Section,
    Table,
    Text,
    Tile,
)
from advisor.report._html import Markup, el, escape, render_html
from advisor.report._markdown import md_escape, render_markdown

from tests.advisor.report._inspect import Page

HOSTILE = "<img src=x onerror=alert(1)>"


def test_el_escapes_text_and_attributes():
    out = el("p", HOSTILE, title='"><script>alert(1)</script>')
    assert "<img" not in out and "<script" not in out
    page = Page(out)
    assert [t for t, _ in page.tags] == ["p"]
    assert page.all("p")[0]["title"] == '"><script>alert(1)</script>'
    assert "".join(page.text) == HOSTILE


def test_markup_is_not_escaped_twice():
    inner = el("b", "a & b")
    assert el("p", inner) == "<p><b>a &amp; b</b></p>"
    assert escape(inner) is inner
    assert escape("a & b") == "a &amp; b"


@pytest.mark.parametrize("name", ["img src=x", "p onclick", "", "1a", "a>b"])
def test_el_refuses_names_that_are_not_names(name):
    with pytest.raises(ValueError):
        el(name)
    with pytest.raises(ValueError):
        el("p", **{name: "1"})


def test_boolean_and_none_attributes():
    assert el("input", checked=True, value=None) == "<input checked></input>"


def _hostile_document() -> Document:
    blocks = (Text(HOSTILE), Heading(HOSTILE), Bullets((HOSTILE,)),
              KeyValues(((HOSTILE, HOSTILE),)), Table((HOSTILE,), ((HOSTILE,),), "l"),
              Gallery(((Tile(None, HOSTILE, note=HOSTILE, emphasis=HOSTILE),),)),
              Code(HOSTILE), Callout(HOSTILE, "warning", (Text(HOSTILE),), badge=HOSTILE))
    return Document(HOSTILE, HOSTILE, (Section("s", HOSTILE, blocks),), footer=HOSTILE)


def test_every_block_escapes_data():
    html = render_html(_hostile_document())
    page = Page(html)
    assert not page.all("img"), "a string from the data became an element"
    assert not page.all("script")
    text = "".join(page.text)
    # title, subtitle, nav, section title, 8 blocks (KeyValues twice, callout 3 times), footer
    assert text.count(HOSTILE) >= 14


def test_page_has_no_network_reference_and_forbids_it():
    html = render_html(_hostile_document())
    page = Page(html)
    assert all(u.startswith(("data:", "#")) for u in page.urls())
    csp = [m for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]


def test_markdown_escape():
    assert md_escape(HOSTILE) == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("- item") == "\\- item"
    assert md_escape("1. first") == "1\\. first"
    assert md_escape("0.93 accuracy") == "0.93 accuracy"
    assert md_escape("two\nlines") == "two lines"
    assert md_escape("*bold* _it_ [link](x)") == "\\*bold\\* \\_it\\_ \\[link\\](x)"


def test_markdown_of_hostile_document_has_no_raw_html(tmp_path):
    md, images = render_markdown(_hostile_document(), tmp_path)
    text = md.read_text(encoding="utf-8")
    code = text.split("```sh\n", 1)[1].split("\n```", 1)[0]
    assert code == HOSTILE  # code blocks show text literally
    assert HOSTILE not in text.replace(code, "")
    assert images == ()


def test_markup_type_is_str():
    assert isinstance(el("p"), Markup) and isinstance(el("p"), str)
