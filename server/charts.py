"""Server-rendered SVG pictures for the pages: bar charts, a heat map, and a finding's chain diagram.

Plain SVG 1.1 inlined in the HTML, so no chart library and no CDN (https://www.w3.org/TR/SVG11/). Every
text drawn comes from the data, so it goes through :func:`markupsafe.escape`; each function returns
:class:`markupsafe.Markup` that templates insert as is. Long labels are shortened with an ellipsis and
keep their full text in a ``<title>`` (the browser's tooltip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


CHAR_WIDTH = 6.6  # average advance of a 12 px sans-serif glyph, for sizing boxes without a font engine
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")


@dataclass(frozen=True)
class Item:
    """A labelled thing drawn in a picture; ``href`` makes it a link."""

    label: str
    href: str | None = None
    value: float = 0
    note: str = ""  # a second line (for example an effect's direction)


def _fit(text: str, width: float) -> str:
    most = max(3, int(width / CHAR_WIDTH))
    return text if len(text) <= most else text[: most - 1] + "…"


def _text(x: float, y: float, text: str, width: float, anchor: str = "start", css: str = "") -> str:
    shown = _fit(text, width)
    tip = f"<title>{escape(text)}</title>" if shown != text else ""
    cls = f' class="{css}"' if css else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{cls}>{tip}{escape(shown)}</text>'


def _link(item: Item, inner: str) -> str:
    return f'<a href="{escape(item.href)}">{inner}</a>' if item.href else inner


def _svg(width: float, height: float, title: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def bar_chart(title: str, items: Sequence[Item], width: int = 520, label_width: int = 190) -> Markup:
    """Horizontal bars, one per item, longest first as given; each bar's label links to its page."""
    bar, gap, top = 18, 6, 8
    height = top + len(items) * (bar + gap) + 4
    most = max((i.value for i in items), default=0) or 1
    room = width - label_width - 50
    rows = []
    for n, item in enumerate(items):
        y = top + n * (bar + gap)
        length = max(1.0, room * item.value / most)
        rows.append(
            _link(item, _text(label_width - 6, y + bar - 5, item.label, label_width - 8, "end"))
            + f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="{PALETTE[0]}">'
            f"<title>{escape(item.label)}: {item.value:g}</title></rect>"
            + f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}" class="value">{item.value:g}</text>'
        )
    return _svg(width, height, title, "".join(rows))


def heat_map(title: str, rows: Sequence[Item], columns: Sequence[Item], counts: dict[tuple[int, int], int],
             cell: int = 46, row_label_width: int = 170, column_label_height: int = 130) -> Markup:
    """A grid of counts (row i, column j) → ``counts[i, j]``; darker cells hold more, empty cells are blank."""
    width = row_label_width + len(columns) * cell + column_label_height  # room for the last slanted label
    height = column_label_height + len(rows) * cell + 10
    most = max(counts.values(), default=0) or 1
    parts = []
    for j, column in enumerate(columns):
        x = row_label_width + j * cell + cell / 2
        y = column_label_height - 6
        label = _text(0, 0, column.label, column_label_height * 1.25)
        parts.append(_link(column, f'<g transform="translate({x:.1f},{y}) rotate(-50)">{label}</g>'))
    for i, row in enumerate(rows):
        y = column_label_height + i * cell
        parts.append(_link(row, _text(row_label_width - 6, y + cell / 2 + 4, row.label, row_label_width - 8, "end")))
        for j, column in enumerate(columns):
            x = row_label_width + j * cell
            n = counts.get((i, j), 0)
            shade = 0.12 + 0.88 * n / most if n else 0
            fill = f"rgba(78,121,167,{shade:.2f})" if n else "#f6f6f6"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                f"<title>{escape(row.label)} × {escape(column.label)}: {n}</title></rect>"
            )
            if n:
                colour = "#fff" if shade > 0.55 else "#222"
                parts.append(f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                             f'fill="{colour}">{n}</text>')
    return _svg(width, height, title, "".join(parts))


def _whole(x: float, y: float, text: str, anchor: str = "start", css: str = "") -> str:
    """A label drawn whole (the box is sized to it), never cut with an ellipsis."""
    cls = f' class="{css}"' if css else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{cls}>{escape(text)}</text>'


def _width_of(texts: Sequence[str], least: float) -> float:
    return max([least] + [len(t) * CHAR_WIDTH + 16 for t in texts])


def chain_diagram(title: str, columns: Sequence[tuple[str, Sequence[Item]]], box_width: int = 120) -> Markup:
    """Columns of boxes left to right (donor → vesicle → cargo → receiving cell → targets → effect),
    with an arrow from each column to the next; an empty column shows a dashed 'not stated' box. Each
    column is as wide as its longest label: labels are shown whole ('M2 macrophage polarization')."""
    box, gap, head, col_gap = 34, 10, 26, 34
    tallest = max((len(items) for _, items in columns), default=1) or 1
    height = head + tallest * (box + gap) + 6
    widths = [_width_of([i.label for i in items] + [i.note for i in items] + [heading], box_width)
              for heading, items in columns]
    width = sum(widths) + col_gap * (len(columns) - 1) + 4
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    middle = head + (tallest * (box + gap) - gap) / 2
    x = 2.0
    for c, (heading, items) in enumerate(columns):
        if c:
            x += widths[c - 1] + col_gap
        box_width = widths[c]
        parts.append(_whole(x + box_width / 2, 14, heading, "middle", "heading"))
        shown = list(items) or [Item("not stated")]
        top = middle - (len(shown) * (box + gap) - gap) / 2
        colour = PALETTE[c % len(PALETTE)]
        for n, item in enumerate(shown):
            y = top + n * (box + gap)
            dashed = ' stroke-dasharray="4 3"' if not items else ""
            rect = (f'<rect x="{x:.1f}" y="{y:.1f}" rx="6" width="{box_width:.1f}" height="{box}" fill="#fff" '
                    f'stroke="{colour}" stroke-width="2"{dashed}/>')
            if item.note:
                text = (_whole(x + box_width / 2, y + 14, item.note, "middle", "note")
                        + _whole(x + box_width / 2, y + 28, item.label, "middle"))
            else:
                text = _whole(x + box_width / 2, y + box / 2 + 4, item.label, "middle")
            parts.append(_link(item, rect + text))
        if c < len(columns) - 1:
            parts.append(f'<line x1="{x + box_width + 2:.1f}" y1="{middle:.1f}" x2="{x + box_width + col_gap - 3:.1f}" '
                         f'y2="{middle:.1f}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>')
    return _svg(width, height, title, "".join(parts))


@dataclass(frozen=True)
class SignedEdge:
    """One signed step: ``subject`` —(word)→ ``object``; the sign picks the line's head."""

    position: int
    subject: Item
    sign: str  # "positive", "negative", "unsigned"
    word: str
    object: Item


HEADS = {"positive": "url(#activates)", "negative": "url(#inhibits)", "unsigned": ""}


def signed_steps_diagram(title: str, edges: Sequence[SignedEdge]) -> Markup:
    """A finding's mechanism as pathway diagrams draw it: one row per signed step, in chain order (parallel
    steps share their step number), an arrow for a positive step, a bar-headed line for a negative one, a
    plain line for an unsigned one; the relation word sits on the line, every label whole."""
    row, gap, step_col, line = 30, 8, 44, 190
    left = _width_of([e.subject.label for e in edges], 90)
    right = _width_of([e.object.label for e in edges], 90)
    width = step_col + left + line + right + 4
    height = 22 + len(edges) * (row + gap)
    parts = ['<defs><marker id="activates" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#2e7d32"/></marker>'
             '<marker id="inhibits" viewBox="0 0 4 12" refX="3" refY="6" markerWidth="4" markerHeight="12" '
             'orient="auto"><rect x="0" y="0" width="3" height="12" fill="#c62828"/></marker></defs>',
             _whole(step_col / 2, 14, "step", "middle", "heading")]
    colours = {"positive": "#2e7d32", "negative": "#c62828", "unsigned": "#777"}
    for n, edge in enumerate(edges):
        y = 22 + n * (row + gap)
        mid = y + row / 2
        parts.append(_whole(step_col / 2, mid + 4, str(edge.position), "middle"))
        x1 = step_col
        parts.append(_link(edge.subject, f'<rect x="{x1}" y="{y}" rx="6" width="{left:.1f}" height="{row}" fill="#fff" '
                                         f'stroke="{PALETTE[0]}" stroke-width="2"/>'
                                         + _whole(x1 + left / 2, mid + 4, edge.subject.label, "middle")))
        x2 = x1 + left + line
        head = HEADS[edge.sign]
        marker = f' marker-end="{head}"' if head else ""
        dashed = ' stroke-dasharray="5 4"' if edge.sign == "unsigned" else ""
        parts.append(f'<line x1="{x1 + left + 2:.1f}" y1="{mid:.1f}" x2="{x2 - 4:.1f}" y2="{mid:.1f}" '
                     f'stroke="{colours[edge.sign]}" stroke-width="2"{dashed}{marker} class="{edge.sign}">'
                     f'<title>{escape(edge.sign)}: {escape(edge.word)}</title></line>')
        parts.append(_whole(x1 + left + line / 2, mid - 5, edge.word, "middle", "note"))
        parts.append(_link(edge.object, f'<rect x="{x2:.1f}" y="{y}" rx="6" width="{right:.1f}" height="{row}" fill="#fff" '
                                        f'stroke="{PALETTE[2]}" stroke-width="2"/>'
                                        + _whole(x2 + right / 2, mid + 4, edge.object.label, "middle")))
    return _svg(width, height, title, "".join(parts))
