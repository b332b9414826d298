"""A small PDF writer that streams: each page goes to the output as soon as it is complete.

Why not reportlab's ``Canvas``: it keeps every page until ``save()``; drawing the same stickers,
its peak RSS grew from 62 MiB (100) to 75 MiB (2,100) and 126 MiB (10,000), while this writer
stays at 59-60 MiB for all three (``bench/bench_stickers.py [--engine reportlab]``).
It writes a page's content stream and page object at once and keeps only their byte offsets
(a list of ints), the page object numbers and the set of glyphs used. Fonts are embedded once,
at the end, as Type0/Identity-H fonts over a fontTools subset of DejaVu (glyph ids kept, so
text written earlier stays valid), with a ToUnicode map so the text can be searched and copied.
Only what stickers need is here: filled/stroked rectangles, lines, and left-aligned text.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import BinaryIO, Protocol

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

__all__ = ["MM", "FontMetrics", "PageContent", "PdfStreamWriter", "font_metrics"]

#: One millimetre in PDF points.
MM = 72 / 25.4

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _font_bytes(filename: str) -> bytes:
    return resources.files("market.qr").joinpath("fonts", filename).read_bytes()


@dataclass(frozen=True, slots=True)
class FontMetrics:
    """What laying out text needs from a TrueType font: glyph ids and advance widths."""

    filename: str
    postscript_name: str
    glyphs: dict[str, tuple[int, float]]  # character -> (glyph id, advance in 1/1000 em)
    notdef_width: float
    ascent: float  # all in 1/1000 em
    descent: float
    cap_height: float
    bbox: tuple[float, float, float, float]

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` (NFC) this font has no glyph for."""
        return sorted({ch for ch in unicodedata.normalize("NFC", text) if ch not in self.glyphs})

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points, in points (no kerning)."""
        glyphs = self.glyphs
        notdef = self.notdef_width
        return sum(glyphs[ch][1] if ch in glyphs else notdef for ch in text) * size / 1000


@cache
def font_metrics(filename: str) -> FontMetrics:
    """Metrics of one of the fonts shipped in ``market/qr/fonts`` (read once per process)."""
    font = TTFont(io.BytesIO(_font_bytes(filename)), lazy=True)
    scale = 1000 / font["head"].unitsPerEm
    advances = font["hmtx"].metrics
    glyphs = {}
    for codepoint, name in font.getBestCmap().items():
        glyphs[chr(codepoint)] = (font.getGlyphID(name), advances[name][0] * scale)
    head, os2 = font["head"], font["OS/2"]
    return FontMetrics(
        filename=filename,
        postscript_name=font["name"].getDebugName(6) or filename.removesuffix(".ttf"),
        glyphs=glyphs,
        notdef_width=advances[".notdef"][0] * scale,
        ascent=font["hhea"].ascent * scale,
        descent=font["hhea"].descent * scale,
        cap_height=getattr(os2, "sCapHeight", 0) * scale or 700.0,
        bbox=(head.xMin * scale, head.yMin * scale, head.xMax * scale, head.yMax * scale),
    )


@dataclass(slots=True)
class _FontUse:
    """One font in one document: its resource name and the glyphs drawn so far."""

    metrics: FontMetrics
    resource: str
    glyph_text: dict[int, str] = field(default_factory=dict)  # glyph id -> character

    def encode(self, text: str) -> str:
        glyphs = self.metrics.glyphs
        used = self.glyph_text
        codes = []
        for ch in text:
            gid = glyphs[ch][0] if ch in glyphs else 0
            used.setdefault(gid, ch)
            codes.append(f"{gid:04X}")
        return "".join(codes)


def _num(value: float) -> str:
    """Compact PDF number: at most 3 decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class PageContent:
    """Builds one page's content stream (PDF operators, coordinates in points from bottom left)."""

    def __init__(self, fonts: dict[str, _FontUse]) -> None:
        self._fonts = fonts
        self._ops: list[str] = []

    def raw(self, operators: str) -> None:
        """Append operators verbatim (callers build them with whole numbers or ``_num``)."""
        self._ops.append(operators)

    def save(self) -> None:
        self._ops.append("q")

    def restore(self) -> None:
        self._ops.append("Q")

    def transform(self, a: float, b: float, c: float, d: float, e: float, f: float) -> None:
        self._ops.append(" ".join(map(_num, (a, b, c, d, e, f))) + " cm")

    def gray(self, level: float, *, stroke: bool = False) -> None:
        self._ops.append(f"{_num(level)} {'G' if stroke else 'g'}")

    def line_width(self, width: float) -> None:
        self._ops.append(f"{_num(width)} w")

    def rect(self, x: float, y: float, w: float, h: float, *, fill: bool, stroke: bool) -> None:
        paint = "B" if fill and stroke else "f" if fill else "S"
        self._ops.append(f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re {paint}")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self._ops.append(f"{_num(x1)} {_num(y1)} m {_num(x2)} {_num(y2)} l S")

    def text(self, font: str, size: float, x: float, y: float, text: str) -> None:
        """Draw ``text`` with its baseline starting at ``(x, y)``; ``font`` is REGULAR or BOLD."""
        use = self._fonts[font]
        hexcodes = use.encode(unicodedata.normalize("NFC", text))
        self._ops.append(
            f"BT /{use.resource} {_num(size)} Tf {_num(x)} {_num(y)} Td <{hexcodes}> Tj ET"
        )

    def getvalue(self) -> bytes:
        return "\n".join(self._ops).encode("ascii")


class PdfStreamWriter:
    """Writes a PDF to ``out`` page by page; ``close()`` adds fonts, page tree and xref.

    ``out`` only needs ``write``: byte offsets are counted here, so a pipe or an HTTP response
    body works as well as a file.
    """

    def __init__(self, out: BinaryIO | Writable, *, title: str = "") -> None:
        self._out = out
        self._position = 0
        self._offsets: list[int] = [0]  # by object number; object 0 is the free-list head
        self._page_ids: list[int] = []
        self._title = title
        self._catalog = self._reserve()
        self._pages = self._reserve()
        self._resources = self._reserve()
        self._fonts = {
            filename: _FontUse(font_metrics(filename), f"F{index}")
            for index, filename in enumerate((REGULAR, BOLD), start=1)
        }
        self._font_ids = {filename: self._reserve() for filename in self._fonts}
        self._closed = False
        # Binary comment line: tells transfer tools the file is binary.
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    @property
    def page_count(self) -> int:
        return len(self._page_ids)

    def new_page(self) -> PageContent:
        """An empty page content; hand it back to ``add_page`` when drawn."""
        return PageContent(self._fonts)

    def add_page(self, content: PageContent, width: float, height: float) -> None:
        """Write one page of ``width`` x ``height`` points to the output now."""
        stream_id = self._reserve()
        self._write_stream(stream_id, content.getvalue())
        page_id = self._reserve()
        self._write_object(
            page_id,
            f"<< /Type /Page /Parent {self._pages} 0 R /MediaBox [0 0 {_num(width)} "
            f"{_num(height)}] /Resources {self._resources} 0 R /Contents {stream_id} 0 R >>",
        )
        self._page_ids.append(page_id)

    def close(self) -> None:
        """Embed the fonts, write the page tree, catalog, xref table and trailer."""
        if self._closed:
            return
        self._closed = True
        for filename, use in self._fonts.items():
            self._write_font(self._font_ids[filename], use)
        fonts = " ".join(
            f"/{use.resource} {self._font_ids[f]} 0 R" for f, use in self._fonts.items()
        )
        self._write_object(self._resources, f"<< /Font << {fonts} >> >>")
        kids = " ".join(f"{page} 0 R" for page in self._page_ids)
        self._write_object(
            self._pages, f"<< /Type /Pages /Kids [{kids}] /Count {len(self._page_ids)} >>"
        )
        self._write_object(self._catalog, f"<< /Type /Catalog /Pages {self._pages} 0 R >>")
        info = self._reserve()
        self._write_object(
            info, f"<< /Producer (market.qr) /Title {_pdf_text_string(self._title)} >>"
        )
        xref_at = self._position
        lines = [f"xref\n0 {len(self._offsets)}\n", "0000000000 65535 f \n"]
        lines.extend(f"{offset:010d} 00000 n \n" for offset in self._offsets[1:])
        lines.append(
            f"trailer\n<< /Size {len(self._offsets)} /Root {self._catalog} 0 R "
            f"/Info {info} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
        )
        self._write("".join(lines).encode("ascii"))

    # -- objects -------------------------------------------------------------------------

    def _reserve(self) -> int:
        self._offsets.append(-1)
        return len(self._offsets) - 1

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)

    def _write_object(self, number: int, body: str | bytes) -> None:
        if isinstance(body, str):
            body = body.encode("ascii")
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _write_stream(self, number: int, data: bytes, extra: str = "") -> None:
        packed = zlib.compress(data, 6)
        head = f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n".encode("ascii")
        self._write_object(number, head + packed + b"\nendstream")

    def _write_font(self, type0_id: int, use: _FontUse) -> None:
        metrics = use.metrics
        gids = sorted(use.glyph_text.keys() | {0})
        tag = _subset_tag(metrics.postscript_name, gids)
        name = f"/{tag}+{metrics.postscript_name}"
        descendant, descriptor, font_file, to_unicode = (self._reserve() for _ in range(4))
        subset = _subset_font(metrics.filename, gids)
        self._write_stream(font_file, subset, extra=f"/Length1 {len(subset)} ")
        x0, y0, x1, y1 = metrics.bbox
        self._write_object(
            descriptor,
            f"<< /Type /FontDescriptor /FontName {name} /Flags 4 "
            f"/FontBBox [{_num(x0)} {_num(y0)} {_num(x1)} {_num(y1)}] /ItalicAngle 0 "
            f"/Ascent {_num(metrics.ascent)} /Descent {_num(metrics.descent)} "
            f"/CapHeight {_num(metrics.cap_height)} /StemV 80 /FontFile2 {font_file} 0 R >>",
        )
        widths = _width_array(use, gids)
        self._write_object(
            descendant,
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont {name} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [{widths}] /CIDToGIDMap /Identity >>",
        )
        self._write_stream(to_unicode, _to_unicode_cmap(use.glyph_text).encode("ascii"))
        self._write_object(
            type0_id,
            f"<< /Type /Font /Subtype /Type0 /BaseFont {name} /Encoding /Identity-H "
            f"/DescendantFonts [{descendant} 0 R] /ToUnicode {to_unicode} 0 R >>",
        )


def _pdf_text_string(text: str) -> str:
    """A PDF text string in UTF-16BE hex, so any Unicode title survives."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _subset_tag(name: str, gids: Iterable[int]) -> str:
    digest = hashlib.sha256((name + ",".join(map(str, gids))).encode()).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _subset_font(filename: str, gids: list[int]) -> bytes:
    """TrueType bytes keeping only ``gids`` (glyph ids unchanged, so CID == GID holds)."""
    font = TTFont(io.BytesIO(_font_bytes(filename)))
    options = ft_subset.Options()
    options.retain_gids = True
    options.notdef_outline = True
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(gids=gids)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _width_array(use: _FontUse, gids: list[int]) -> str:
    """The CIDFont /W array: ``first [w1 w2 ...]`` for each run of consecutive glyph ids."""
    glyphs = use.metrics.glyphs
    width_of = {gid: width for gid, width in glyphs.values()}
    width_of[0] = use.metrics.notdef_width
    parts: list[str] = []
    run: list[int] = []
    for gid in gids:
        if run and gid != run[-1] + 1:
            parts.append(f"{run[0]} [{' '.join(_num(width_of[g]) for g in run)}]")
            run = []
        run.append(gid)
    if run:
        parts.append(f"{run[0]} [{' '.join(_num(width_of[g]) for g in run)}]")
    return " ".join(parts)


def _to_unicode_cmap(glyph_text: dict[int, str]) -> str:
    entries = [
        f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>"
        for gid, text in sorted(glyph_text.items())
        if gid != 0
    ]
    blocks = []
    for start in range(0, len(entries), 100):  # at most 100 entries per bfchar block
        chunk = entries[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
