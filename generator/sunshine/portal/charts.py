"""Charts rendered at build time as inline SVG (no JavaScript, no external library).

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` naming every value, so a
screen reader gets the figures; the page shows the same figures in a table next to it. Colours
meet WCAG 1.4.11 (3:1 against white) and every bar carries its value as text.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

BAR = "#1f5fa8"
TARGET = "#b3261e"
TEXT = "#1a1a1a"


def hbar(title: str, rows: list[tuple[str, int | float, str]], *, max_value: float | None = None,
         target: float | None = None, target_label: str = "") -> Markup:
    """Horizontal bars: *rows* are ``(label, value, value_text)``; *target* draws a marker line."""
    label_w, bar_w, row_h, pad = 190, 300, 26, 6
    width = label_w + bar_w + 80
    height = pad * 2 + row_h * max(1, len(rows)) + (18 if target is not None else 0)
    top = max([r[1] for r in rows] + [target or 0, max_value or 0]) or 1
    desc = "；".join(f"{label}：{text}" for label, _, text in rows) or "无数据"
    if target is not None:
        desc += f"；{target_label}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" class="chart" focusable="false">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    for i, (label, value, text) in enumerate(rows):
        y = pad + i * row_h
        w = 0 if top == 0 else round(bar_w * value / top, 1)
        short = label if len(label) <= 13 else label[:12] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" fill="{TEXT}">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 5}" y="{y + 17}" font-size="13" fill="{TEXT}">{escape(text)}</text>'
        )
    if target is not None:
        x = label_w + round(bar_w * target / top, 1)
        y2 = pad + row_h * max(1, len(rows))
        parts.append(
            f'<line x1="{x}" y1="{pad}" x2="{x}" y2="{y2}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{x}" y="{y2 + 14}" font-size="12" text-anchor="middle" fill="{TARGET}">{escape(target_label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
