"""The report page: its blocks as plain data, and the page rendered from a Jinja2 template.

experiments/report/sections.py says what each section holds, as :class:`Section` objects made of
blocks (:class:`Paragraph`, :class:`Note`, :class:`Bullets`, :class:`SubHeading`, :class:`Table`,
:class:`Figure`); :func:`render_page` writes them with ``templates/report.html.j2``. Blocks hold
plain text, never HTML: the template's environment escapes every value (``autoescape=True``), so
nothing here escapes by hand and nothing is marked safe. The page carries its own CSS
(``templates/report.css``, included inline) and its images as ``data:`` URIs, so it needs nothing
else: no external style sheet, script, font or picture.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, NamedTuple

import jinja2

TEMPLATE = "report.html.j2"


class Cell(NamedTuple):
    """A table cell: its text and an optional smaller second line (e.g. a confidence interval)."""

    text: str
    note: str = ""


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text."""

    text: str
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Note:
    """A paragraph in smaller grey type: how to read what follows."""

    text: str
    kind: ClassVar[str] = "note"


@dataclass(frozen=True)
class Bullets:
    """A bulleted list, one text per item."""

    items: tuple[str, ...]
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class SubHeading:
    """A heading inside a section (``<h3>``)."""

    text: str
    kind: ClassVar[str] = "subheading"


@dataclass(frozen=True)
class Table:
    """A table of cells. Columns at ``numeric`` positions are right-aligned (class ``num``), those at
    ``keys`` (names such as ``all-inhouse``) never wrap (class ``key``); ``row_classes`` gives each
    row a class (``good`` marks a frontier scenario) or none (``""``)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()
    row_classes: tuple[str, ...] = ()
    keys: frozenset[int] = frozenset({0})
    kind: ClassVar[str] = "table"

    @classmethod
    def of(cls, headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Iterable[int] = (),
           row_classes: Sequence[str] = (), keys: Iterable[int] = (0,)) -> Table:
        """A table from loose rows: each value a :class:`Cell` or anything else, written as ``str(value)``."""
        cells = tuple(tuple(v if isinstance(v, Cell) else Cell(str(v)) for v in row) for row in rows)
        return cls(tuple(headers), cells, frozenset(numeric), tuple(row_classes), frozenset(keys))

    def cell_class(self, column: int) -> str:
        """The CSS classes of the cells of column ``column`` (``"num"``, ``"key"``, both or ``""``)."""
        return " ".join(["num"] * (column in self.numeric) + ["key"] * (column in self.keys))

    def row_class(self, row: int) -> str:
        """The CSS class of row ``row`` (``""`` for none)."""
        return self.row_classes[row] if row < len(self.row_classes) else ""


@dataclass(frozen=True)
class Figure:
    """An embedded image (``src`` a ``data:image/png;base64,...`` URI) with a bold title and a
    one-sentence caption; ``anchor`` is its id in the page."""

    anchor: str
    src: str
    alt: str
    title: str
    caption: str
    kind: ClassVar[str] = "figure"


Block = Paragraph | Note | Bullets | SubHeading | Table | Figure


@dataclass(frozen=True)
class Section:
    """One section of the page: its id (``anchor``), its heading and its blocks, in order."""

    anchor: str
    title: str
    blocks: tuple[Block, ...]


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,...`` URI. Its characters (letters, digits, ``+/=:;,``)
    are none that HTML escaping changes, so the template escapes it like any text, unchanged."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@cache
def environment() -> jinja2.Environment:
    """The template environment: templates from this package's ``templates`` folder, every value
    escaped for HTML, an undefined name an error rather than an empty string."""
    return jinja2.Environment(loader=jinja2.PackageLoader("experiments.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def render_page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole document: doctype, UTF-8, inline CSS, title, subtitle, contents, the sections."""
    return environment().get_template(TEMPLATE).render(title=title, subtitle=subtitle, sections=list(sections))
