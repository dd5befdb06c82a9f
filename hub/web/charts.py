"""Charts as inline SVG drawn on the server: no script, no CDN, nothing the CSP blocks.

Only SVG presentation attributes (``fill``, ``width``, ``font-size``) are used, never a
``style`` attribute or element, so the console's ``style-src 'self'`` lets them render;
every label is escaped. Each bar carries ``data-label``/``data-value`` (and
``data-series`` in a stack), so tests and scripts read the figures without geometry,
and each chart has a ``<title>`` and a ``<desc>`` listing its numbers for screen readers.

The console's dashboard draws exact counts; the public transparency page passes each
figure as a :class:`Value`, the text it may show (``< 5``) and the length to draw it
at, so no exact small count reaches the markup, not even in a ``data-*`` attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = (
    "#0b5cad",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#6f42c1",
    "#7a8594",
)
"""Colour-blind-friendly (Okabe-Ito based); the accent blue first, like the console."""

WIDTH = 560
FONT = 12
CHAR_WIDTH = 7.0
"""Rough width of a character at FONT px: enough to lay out legends and cut labels."""
LABEL_CHARS = 26
EMPTY_TEXT = "Belum ada data"


@dataclass(frozen=True, slots=True)
class Value:
    """A figure shown as ``text`` (``7``, ``< 5``), drawn at ``drawn``; ``faint`` when
    the text is a range rather than the number, so the bar does not look exact."""

    drawn: float
    text: str
    faint: bool = False


Figure = int | Value
"""What a bar or a cell shows: an exact count, or a :class:`Value`."""


def _drawn(value: Figure) -> float:
    return value.drawn if isinstance(value, Value) else value


def _shown(value: Figure) -> str:
    return value.text if isinstance(value, Value) else _number(value)


def _faint(value: Figure) -> bool:
    return isinstance(value, Value) and value.faint


@dataclass(frozen=True, slots=True)
class Series:
    """One part of a stacked bar: its name in the legend and its colour."""

    key: str
    label: str
    color: str


def series(keys: Sequence[str], labels: Mapping[str, str] | None = None) -> list[Series]:
    """Series for ``keys`` in order, coloured from the palette."""
    names = labels or {}
    return [
        Series(key, names.get(key, key), PALETTE[n % len(PALETTE)]) for n, key in enumerate(keys)
    ]


def _attrs(values: Mapping[str, object]) -> str:
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in values.items()
        if value is not None
    )


def _el(tag: str, children: str = "", **attrs: object) -> str:
    if not children:
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{children}</{tag}>"


def _text(value: object) -> str:
    return str(escape(str(value)))


def _short(label: str, chars: int = LABEL_CHARS) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _svg(ident: str, title: str, summary: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        _el(
            "svg",
            _el("title", _text(title), id=f"{ident}-title")
            + _el("desc", _text(summary), id=f"{ident}-desc")
            + body,
            xmlns="http://www.w3.org/2000/svg",
            id=ident,
            class_="chart",
            role="img",
            aria_labelledby=f"{ident}-title {ident}-desc",
            width=width,
            height=height,
            viewBox=f"0 0 {width} {height}",
            font_size=FONT,
        )
    )


def _empty(ident: str, title: str, text: str = EMPTY_TEXT) -> Markup:
    body = _el("text", _text(text), x=8, y=24, class_="axis")
    return _svg(ident, title, text, WIDTH, 40, body)


def _legend(items: Sequence[Series], width: int) -> tuple[str, int]:
    """The legend's markup (wrapped into rows) and its height."""
    parts: list[str] = []
    x, y = 0.0, 0
    for item in items:
        size = 14 + 6 + len(item.label) * CHAR_WIDTH + 16
        if x and x + size > width:
            x, y = 0.0, y + 20
        parts.append(
            _el(
                "g",
                _el("rect", x=round(x), y=y + 2, width=12, height=12, rx=2, fill=item.color)
                + _el("text", _text(item.label), x=round(x) + 18, y=y + 12),
                class_="legend-item",
                data_series=item.key,
            )
        )
        x += size
    return _el("g", "".join(parts), class_="legend"), y + 24


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value``: 1, 2, 5, 10, 20, 50, …"""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(
    ident: str,
    title: str,
    items: Sequence[tuple[str, Figure]],
    colors: Sequence[str] = (),
    *,
    empty: str = EMPTY_TEXT,
) -> Markup:
    """Horizontal bars, one per ``(label, value)``, the number at each bar's end.

    ``colors`` (one per item) ties the bars to another chart's legend; else all accent.
    ``empty`` is what a chart without data says.
    """
    if not items or not any(_drawn(value) for _, value in items):
        return _empty(ident, title, empty)
    label_width, value_width, row = 190, 56, 28
    area = WIDTH - label_width - value_width
    top = max(_drawn(value) for _, value in items)
    rows: list[str] = []
    for n, (label, value) in enumerate(items):
        y = n * row
        length = round(area * _drawn(value) / top) if top else 0
        rows.append(
            _el(
                "g",
                _el("title", _text(f"{label}: {_shown(value)}"))
                + _el("text", _text(_short(label)), x=label_width - 8, y=y + 18, text_anchor="end")
                + (
                    _el(
                        "rect",
                        x=label_width,
                        y=y + 5,
                        width=max(length, 1),
                        height=18,
                        rx=2,
                        fill=colors[n] if n < len(colors) else PALETTE[0],
                        fill_opacity=0.4 if _faint(value) else None,
                    )
                    if _drawn(value)
                    else ""
                )
                + _el(
                    "text",
                    _text(_shown(value)),
                    x=label_width + length + 6,
                    y=y + 18,
                    class_="value",
                ),
                class_="bar",
                data_label=label,
                data_value=_shown(value) if isinstance(value, Value) else value,
            )
        )
    summary = "; ".join(f"{label}: {_shown(value)}" for label, value in items)
    return _svg(ident, title, summary, WIDTH, len(items) * row + 4, "".join(rows))


def _segments(
    values: Sequence[int], parts: Sequence[Series], label: str, boxes: Sequence[dict[str, float]]
) -> str:
    """The rects of one stack; ``boxes`` gives each part's x, y, width and height."""
    out: list[str] = []
    for value, part, box in zip(values, parts, boxes, strict=True):
        if not value:
            continue
        out.append(
            _el(
                "rect",
                _el("title", _text(f"{label} · {part.label}: {_number(value)}")),
                class_="segment",
                data_series=part.key,
                data_value=value,
                fill=part.color,
                **{name: round(number, 1) for name, number in box.items()},
            )
        )
    return "".join(out)


def _stack_summary(rows: Sequence[tuple[str, Sequence[int]]], parts: Sequence[Series]) -> str:
    described: list[str] = []
    for label, values in rows:
        split = ", ".join(f"{p.label} {v}" for p, v in zip(parts, values, strict=True) if v)
        described.append(f"{label}: {_number(sum(values))}" + (f" ({split})" if split else ""))
    return "; ".join(described)


def stacked_bars(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    parts: Sequence[Series],
) -> Markup:
    """Horizontal stacked bars: one row per label, one segment per series, the total after it."""
    if not rows or not any(sum(values) for _, values in rows):
        return _empty(ident, title)
    label_width, value_width, row = 190, 56, 28
    area = WIDTH - label_width - value_width
    legend, legend_height = _legend(parts, WIDTH)
    top = max(sum(values) for _, values in rows)
    body: list[str] = [legend]
    for n, (label, values) in enumerate(rows):
        y = legend_height + n * row
        total = sum(values)
        boxes: list[dict[str, float]] = []
        offset = float(label_width)
        for value in values:
            length = area * value / top
            boxes.append({"x": offset, "y": y + 5, "width": length, "height": 18})
            offset += length
        segments = _segments(values, parts, label, boxes)
        body.append(
            _el(
                "g",
                _el("text", _text(_short(label)), x=label_width - 8, y=y + 18, text_anchor="end")
                + segments
                + _el("text", _text(_number(total)), x=round(offset) + 6, y=y + 18, class_="value"),
                class_="bar",
                data_label=label,
                data_value=total,
            )
        )
    summary = _stack_summary(rows, parts)
    height = legend_height + len(rows) * row + 4
    return _svg(ident, title, summary, WIDTH, height, "".join(body))


def stacked_columns(
    ident: str,
    title: str,
    columns: Sequence[tuple[str, Sequence[int]]],
    parts: Sequence[Series],
    width: int = WIDTH,
) -> Markup:
    """Vertical stacked columns over a labelled axis (days), with grid lines and totals."""
    if not columns or not any(sum(values) for _, values in columns):
        return _empty(ident, title)
    legend, legend_height = _legend(parts, width)
    axis_width, plot_height, label_height = 40, 180, 22
    top_pad = legend_height + 16
    top = _nice_max(max(sum(values) for _, values in columns))
    slot = (width - axis_width) / len(columns)
    thickness = round(min(slot * 0.6, 48), 1)
    base = top_pad + plot_height
    body: list[str] = [legend]
    ticks = min(top, 5)  # top is 1, 2, 5, 10, 20, 50…: whole numbers at every tick
    for tick in range(ticks + 1):
        value = top * tick // ticks
        y = round(base - plot_height * tick / ticks, 1)
        body.append(
            _el("line", x1=axis_width, x2=width, y1=y, y2=y, stroke="#d9dee7", stroke_width=1)
            + _el(
                "text",
                _text(_number(value)),
                x=axis_width - 6,
                y=y + 4,
                text_anchor="end",
                class_="axis",
            )
        )
    for n, (label, values) in enumerate(columns):
        x = round(axis_width + slot * n + (slot - thickness) / 2, 1)
        total = sum(values)
        boxes: list[dict[str, float]] = []
        offset = float(base)
        for value in values:
            length = plot_height * value / top
            offset -= length
            boxes.append({"x": x, "y": offset, "width": thickness, "height": length})
        segments = _segments(values, parts, label, boxes)
        center = round(x + thickness / 2, 1)
        body.append(
            _el(
                "g",
                segments
                + (
                    _el(
                        "text",
                        _text(_number(total)),
                        x=center,
                        y=round(offset - 4, 1),
                        text_anchor="middle",
                        class_="value",
                    )
                    if total
                    else ""
                )
                + _el("text", _text(label), x=center, y=base + 16, text_anchor="middle"),
                class_="column",
                data_label=label,
                data_value=total,
            )
        )
    summary = _stack_summary(columns, parts)
    return _svg(ident, title, summary, width, base + label_height, "".join(body))


def _shade(share: float) -> str:
    """The accent blue mixed into white: ``share`` 0 is white, 1 the full accent."""
    red, green, blue = 0x0B, 0x5C, 0xAD
    mix = [round(255 - (255 - channel) * share) for channel in (red, green, blue)]
    return "#" + "".join(f"{channel:02x}" for channel in mix)


def grid_chart(
    ident: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Mapping[tuple[int, int], Figure],
    *,
    empty: str = EMPTY_TEXT,
) -> Markup:
    """A table of shaded cells (rows x columns, e.g. weekdays by hours), the figure in each.

    ``cells`` maps (row index, column index) to a figure; missing cells are 0. The darker
    the cell, the larger the figure; a :class:`Value` is shaded from its ``drawn``.
    """
    values = {(r, c): cells.get((r, c), 0) for r in range(len(rows)) for c in range(len(columns))}
    top = max((_drawn(v) for v in values.values()), default=0)
    if not top:
        return _empty(ident, title, empty)
    label_width, head, cell_height = 90, 22, 28
    cell_width = (WIDTH - label_width) / len(columns)
    body: list[str] = []
    for c, column in enumerate(columns):
        x = round(label_width + cell_width * (c + 0.5), 1)
        body.append(_el("text", _text(column), x=x, y=15, text_anchor="middle", class_="axis"))
    for r, row in enumerate(rows):
        y = head + r * cell_height
        parts = [_el("text", _text(row), x=label_width - 8, y=y + 18, text_anchor="end")]
        for c, column in enumerate(columns):
            value = values[r, c]
            share = _drawn(value) / top
            x = round(label_width + cell_width * c, 1)
            parts.append(
                _el(
                    "g",
                    _el("title", _text(f"{row} {column}: {_shown(value)}"))
                    + _el(
                        "rect",
                        x=x + 1,
                        y=y + 1,
                        width=round(cell_width - 2, 1),
                        height=cell_height - 2,
                        rx=2,
                        fill=_shade(0.08 + 0.92 * share) if _drawn(value) else "#f4f6f9",
                    )
                    + _el(
                        "text",
                        _text(_shown(value)),
                        x=round(x + cell_width / 2, 1),
                        y=y + 18,
                        text_anchor="middle",
                        fill="#ffffff" if share > 0.55 else "#1d2733",
                        class_="value",
                    ),
                    class_="cell",
                    data_label=f"{row} {column}",
                    data_value=_shown(value) if isinstance(value, Value) else value,
                )
            )
        body.append(_el("g", "".join(parts), class_="row", data_label=row))
    summary = "; ".join(
        f"{row}: "
        + ", ".join(f"{column} {_shown(values[r, c])}" for c, column in enumerate(columns))
        for r, row in enumerate(rows)
    )
    height = head + len(rows) * cell_height + 4
    return _svg(ident, title, summary, WIDTH, height, "".join(body))
