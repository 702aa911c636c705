"""Draws a presented network as an accessible SVG picture, on the server, with no script.

Only ``PresentedNetwork`` comes in, so the picture can never show more than the text list beside
it. Nothing depends on colour: every kind of person has its own shape and every kind of link its
own line style, so a black-and-white print reads the same. The picture has a title, a description
and a key. Styling is by presentation attributes (the Content-Security-Policy forbids inline
``style``), so the picture looks the same inline in a page and opened on its own.

The layout is layered and deterministic: the people of the case in the top row, then the people one
shown link away, and so on, then the agencies (rows come from what is shown, see
``present_network._layers``); within a row, nodes are ordered to sit near their neighbours (a few
barycentre sweeps, ties broken by the presented order), and a link that would cross a node is bent
around it. The same network always gives the same picture, byte for byte.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from marac.present_network import LinkKind, NetworkLink, NetworkNode, NodeKind, PresentedNetwork

COLUMN_WIDTH = 150
ROW_HEIGHT = 118
MAX_PER_ROW = 7
MARGIN = 30
TOP = 40
RADIUS = 17
MIN_WIDTH = 640
LEGEND_COLUMN = 250
LEGEND_ROW = 22
LABEL_CHARS = 20
SWEEPS = 4

INK = "#1b1f24"
FILLS = {
    NodeKind.VICTIM: "#d6e6f5",
    NodeKind.PERPETRATOR: "#f2d0d0",
    NodeKind.CHILD: "#fff0b8",
    NodeKind.OTHER_ADULT: "#e4e4e4",
    NodeKind.AGENCY: "#d8eedb",
    NodeKind.ANONYMISED: "#ffffff",
}
# (stroke width, dash pattern or None, colour)
LINE_STYLES = {
    LinkKind.PARTNER: ("2.5", None, INK),
    LinkKind.EX_PARTNER: ("2", "10 6", INK),
    LinkKind.PARENT: ("1.5", None, INK),
    LinkKind.STEP_PARENT: ("1.5", "4 4", INK),
    LinkKind.SIBLING: ("2", "1 5", INK),
    LinkKind.HOUSEHOLD_MEMBER: ("1.5", "12 4 2 4", INK),
    LinkKind.INVOLVEMENT: ("1", "6 3", "#55606e"),
}
ID_PREFIX = "network-svg"


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# --- layout -------------------------------------------------------------------------------------


def layout(network: PresentedNetwork) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Positions of every node, and the width and height of the drawing (without the key)."""
    layers: dict[int, list[NetworkNode]] = defaultdict(list)
    for node in network.nodes:
        layers[node.layer].append(node)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for link in network.links:
        neighbours[link.source].add(link.target)
        neighbours[link.target].add(link.source)

    order = [list(layers[layer]) for layer in sorted(layers)]
    for sweep in range(SWEEPS):
        indices = range(1, len(order)) if sweep % 2 == 0 else range(len(order) - 2, -1, -1)
        for index in indices:
            reference = order[index - 1] if sweep % 2 == 0 else order[index + 1]
            order[index] = _by_barycentre(order[index], reference, neighbours)

    rows: list[list[NetworkNode]] = []
    for layer in order:
        rows += [layer[i : i + MAX_PER_ROW] for i in range(0, len(layer), MAX_PER_ROW)]
    columns = max((len(row) for row in rows), default=1)
    width = max(2 * MARGIN + columns * COLUMN_WIDTH, MIN_WIDTH)
    # Rows are centred in the width, however narrow the widest row.
    columns = (width - 2 * MARGIN) / COLUMN_WIDTH
    positions = {}
    for row_index, row in enumerate(rows):
        offset = MARGIN + (columns - len(row)) * COLUMN_WIDTH / 2
        y = TOP + RADIUS + row_index * ROW_HEIGHT
        for column, node in enumerate(row):
            positions[node.key] = (offset + column * COLUMN_WIDTH + COLUMN_WIDTH / 2, y)
    height = TOP + max(len(rows), 1) * ROW_HEIGHT
    return positions, width, height


def _by_barycentre(
    layer: list[NetworkNode], reference: list[NetworkNode], neighbours: dict[str, set[str]]
) -> list[NetworkNode]:
    place = {node.key: (i + 0.5) / len(reference) for i, node in enumerate(reference)}

    def key(item: tuple[int, NetworkNode]) -> tuple[float, int]:
        index, node = item
        near = [place[k] for k in neighbours[node.key] if k in place]
        here = (index + 0.5) / len(layer)
        # fsum is exact, so the order the neighbours come in (a set of keys, walked in an order
        # that differs from process to process) cannot change a tie: the picture stays put.
        return (math.fsum(near) / len(near) if near else here, index)

    return [node for _, node in sorted(enumerate(layer), key=key)]


# --- shapes -------------------------------------------------------------------------------------


def _points(pairs: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in pairs)


def shape(kind: NodeKind, x: float, y: float, in_case: bool, r: float = RADIUS) -> str:
    stroke = f'stroke="{INK}" stroke-width="{3 if in_case else 1.5}" fill="{FILLS[kind]}"'
    if kind is NodeKind.VICTIM:
        return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" {stroke}/>'
    if kind is NodeKind.PERPETRATOR:
        side = r * 1.75
        return (
            f'<rect x="{_num(x - side / 2)}" y="{_num(y - side / 2)}" width="{_num(side)}" '
            f'height="{_num(side)}" {stroke}/>'
        )
    if kind is NodeKind.CHILD:
        points = [(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]
    elif kind is NodeKind.OTHER_ADULT:
        points = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    elif kind is NodeKind.AGENCY:
        w, h = r * 1.5, r
        points = [
            (x - w, y),
            (x - w / 2, y - h),
            (x + w / 2, y - h),
            (x + w, y),
            (x + w / 2, y + h),
            (x - w / 2, y + h),
        ]
    else:  # anonymised: a dashed octagon
        a, b = r * 0.42, r
        points = [(x - a, y - b), (x + a, y - b), (x + b, y - a), (x + b, y + a)]
        points += [(x + a, y + b), (x - a, y + b), (x - b, y + a), (x - b, y - a)]
        return f'<polygon points="{_points(points)}" {stroke} stroke-dasharray="4 3"/>'
    return f'<polygon points="{_points(points)}" {stroke}/>'


def _line_attributes(kind: LinkKind) -> str:
    width, dash, colour = LINE_STYLES[kind]
    attributes = f'stroke="{colour}" stroke-width="{width}" fill="none"'
    if dash:
        attributes += f' stroke-dasharray="{dash}"'
    if kind is LinkKind.SIBLING:
        attributes += ' stroke-linecap="round"'
    return attributes


def wrap(label: str, width: int = LABEL_CHARS, lines: int = 2) -> list[str]:
    """The label in at most ``lines`` lines of about ``width`` characters; the rest cut with ..."""
    words, out, current = label.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "\u2026"
    return [line if len(line) <= width + 8 else line[: width + 7] + "\u2026" for line in out]


def _text(x: float, y: float, lines: list[str], size: int, halo: bool = False) -> str:
    extra = ' paint-order="stroke" stroke="#ffffff" stroke-width="4" stroke-linejoin="round"'
    spans = "".join(
        f'<tspan x="{_num(x)}" dy="{0 if i == 0 else size + 2}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="middle" font-size="{size}" '
        f'fill="{INK}"{extra if halo else ""}>{spans}</text>'
    )


# --- the picture --------------------------------------------------------------------------------


def draw(network: PresentedNetwork) -> Markup:
    positions, width, height = layout(network)
    legend, legend_height = _legend(width, height)
    total_height = height + legend_height + 10
    total_width = width
    title_id, desc_id = f"{ID_PREFIX}-title", f"{ID_PREFIX}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="network-picture" '
        f'viewBox="0 0 {_num(total_width)} {_num(total_height)}" width="{_num(total_width)}" '
        f'height="{_num(total_height)}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">',
        f'<title id="{title_id}">{escape(_title(network))}</title>',
        f'<desc id="{desc_id}">{escape(_description(network))}</desc>',
        "<defs>"
        f'<marker id="{ID_PREFIX}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker>'
        "</defs>",
        f'<rect x="0" y="0" width="{_num(total_width)}" height="{_num(total_height)}" '
        'fill="#ffffff"/>',
    ]
    parts += _links(network.links, positions)
    for node in network.nodes:
        x, y = positions[node.key]
        label_lines = wrap(node.label)
        parts.append(
            f'<g class="network-node network-node--{node.kind.value}">'
            f"<title>{escape(node.label)}: {escape(node.kind.label)}. "
            f"{escape(node.description)}</title>"
            + shape(node.kind, x, y, node.in_case)
            + (_text(x, y + 5, ["?"], 14) if node.kind is NodeKind.ANONYMISED else "")
            + _text(x, y + RADIUS + 16, label_lines, 12)
            + "</g>"
        )
    if not network.nodes:
        parts.append(
            _text(width / 2, TOP + RADIUS, ["Nobody in this network is shown to you."], 13)
        )
    parts.append(legend)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()


def svg_document(network: PresentedNetwork) -> str:
    """The picture as a file of its own."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(draw(network)) + "\n"


def _title(network: PresentedNetwork) -> str:
    return f"Network around case {network.case_reference}"


def _description(network: PresentedNetwork) -> str:
    people = network.people_count
    agencies = network.agency_count
    parts = [
        f"{people} {'person' if people == 1 else 'people'} and "
        f"{agencies} {'agency' if agencies == 1 else 'agencies'} "
        f"linked to case {network.case_reference}, with {len(network.links)} "
        f"{'link' if len(network.links) == 1 else 'links'}."
    ]
    if network.nodes:
        parts.append(
            "Shown: "
            + "; ".join(f"{n.label} ({n.kind.label.lower()})" for n in network.nodes)
            + "."
        )
    parts.append("Every person, agency and link in the picture is also listed in the text.")
    return " ".join(parts)


def _links(links: tuple[NetworkLink, ...], positions: dict[str, tuple[float, float]]) -> list[str]:
    """Every link as a line, bent around any node it would otherwise cross; several links
    between the same two nodes are bent apart so that each can be seen."""
    by_pair: dict[tuple[str, str], list[NetworkLink]] = defaultdict(list)
    for link in links:
        by_pair[tuple(sorted((link.source, link.target)))].append(link)
    rows: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for x, y in positions.values():
        rows[y].append((x, y))
    out = []
    labels = []
    for pair in sorted(by_pair):
        group = by_pair[pair]
        for index, link in enumerate(group):
            p1, p2 = positions[link.source], positions[link.target]
            obstacles = _obstacles(rows, p1, p2)
            bend = _bend(p1, p2, obstacles) + (index - (len(group) - 1) / 2) * 16
            start, control, end = _ends(p1, p2, bend)
            marker = f' marker-end="url(#{ID_PREFIX}-arrow)"' if link.directed else ""
            out.append(
                f'<g class="network-link network-link--{link.kind.value}">'
                f"<title>{escape(link.sentence)}</title>"
                f'<path d="M{_num(start[0])},{_num(start[1])} Q{_num(control[0])},'
                f'{_num(control[1])} {_num(end[0])},{_num(end[1])}" '
                f"{_line_attributes(link.kind)}{marker}/></g>"
            )
            # The line style already says which kind of link it is; only a date adds to it.
            if link.label.startswith(_SEPARATED):
                mx, my = _quadratic(start, control, end, 0.5)
                labels.append(_text(mx, my - 4, wrap(link.label, 18), 10, halo=True))
    return out + labels


_SEPARATED = "separated"
CLEARANCE = RADIUS + 6


def _obstacles(
    rows: dict[float, list[tuple[float, float]]],
    p1: tuple[float, float],
    p2: tuple[float, float],
) -> list[tuple[float, float]]:
    """The nodes a link between p1 and p2 could run into, however far it is bent."""
    reach = BENDS[-1] + CLEARANCE
    left, right = min(p1[0], p2[0]) - reach, max(p1[0], p2[0]) + reach
    low, high = min(p1[1], p2[1]) - reach, max(p1[1], p2[1]) + reach
    return [
        point
        for y, points in rows.items()
        if low <= y <= high
        for point in points
        if left <= point[0] <= right and point != p1 and point != p2
    ]


BENDS = (0, 28, -28, 56, -56, 90, -90, 130)


def _bend(
    p1: tuple[float, float], p2: tuple[float, float], obstacles: list[tuple[float, float]]
) -> float:
    """How far the middle of the link is pushed sideways (0 for a straight line)."""
    if not obstacles:
        return 0
    limit = CLEARANCE * CLEARANCE
    for bend in BENDS:
        (ax, ay), (cx, cy), (bx, by) = _ends(p1, p2, bend)
        clear = True
        for step in range(1, 10):
            t = step / 10
            u = 1 - t
            x = u * u * ax + 2 * u * t * cx + t * t * bx
            y = u * u * ay + 2 * u * t * cy + t * t * by
            for ox, oy in obstacles:
                if (x - ox) * (x - ox) + (y - oy) * (y - oy) <= limit:
                    clear = False
                    break
            if not clear:
                break
        if clear:
            return bend
    return BENDS[-1]


def _ends(
    p1: tuple[float, float], p2: tuple[float, float], bend: float
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Start, control point and end of the link, stopping short of both nodes."""
    (x1, y1), (x2, y2) = p1, p2
    dx, dy = x2 - x1, y2 - y1
    length = max((dx * dx + dy * dy) ** 0.5, 1.0)
    ux, uy = dx / length, dy / length
    # The control point sits at twice the bend, so the curve's middle is pushed by ``bend``.
    control = ((x1 + x2) / 2 - uy * bend * 2, (y1 + y2) / 2 + ux * bend * 2)
    gap = RADIUS + 3

    def towards(origin: tuple[float, float], target: tuple[float, float]) -> tuple[float, float]:
        tx, ty = target[0] - origin[0], target[1] - origin[1]
        size = max((tx * tx + ty * ty) ** 0.5, 1.0)
        return (origin[0] + tx / size * gap, origin[1] + ty / size * gap)

    return towards(p1, control), control, towards(p2, control)


def _quadratic(
    a: tuple[float, float], c: tuple[float, float], b: tuple[float, float], t: float
) -> tuple[float, float]:
    u = 1 - t
    return (
        u * u * a[0] + 2 * u * t * c[0] + t * t * b[0],
        u * u * a[1] + 2 * u * t * c[1] + t * t * b[1],
    )


def _legend(width: float, top: float) -> tuple[str, float]:
    """The key, below the drawing, in as many columns as fit: every shape and line in words."""
    entries: list[tuple[str, str]] = []
    for kind in NodeKind:
        entries.append((kind.label, "node:" + kind.value))
    entries.append(("Thick outline: in this case", "in-case"))
    for kind in LinkKind:
        entries.append((kind.label, "link:" + kind.value))
    columns = max(1, min(3, int((width - 2 * MARGIN) // LEGEND_COLUMN)))
    rows = -(-len(entries) // columns)
    height = 34 + rows * LEGEND_ROW
    box_width = columns * LEGEND_COLUMN
    x0 = (width - box_width) / 2
    parts = [
        f'<g class="network-key"><rect x="{_num(x0)}" y="{_num(top)}" width="{_num(box_width)}" '
        f'height="{_num(height)}" fill="#ffffff" stroke="{INK}" stroke-width="1"/>',
        _text(x0 + box_width / 2, top + 18, ["Key"], 13),
    ]
    for index, (label, sample) in enumerate(entries):
        column, row = divmod(index, rows)
        x = x0 + column * LEGEND_COLUMN + 12
        y = top + 40 + row * LEGEND_ROW
        what, _, value = sample.partition(":")
        if what == "node":
            parts.append(shape(NodeKind(value), x + 14, y, False, r=9))
        elif what == "in-case":
            parts.append(shape(NodeKind.OTHER_ADULT, x + 14, y, True, r=9))
        else:
            kind = LinkKind(value)
            marker = (
                f' marker-end="url(#{ID_PREFIX}-arrow)"'
                if kind in (LinkKind.PARENT, LinkKind.STEP_PARENT)
                else ""
            )
            parts.append(
                f'<line x1="{_num(x)}" y1="{_num(y)}" x2="{_num(x + 30)}" y2="{_num(y)}" '
                f"{_line_attributes(kind)}{marker}/>"
            )
        parts.append(
            f'<text x="{_num(x + 38)}" y="{_num(y + 4)}" font-size="12" fill="{INK}">'
            f"{escape(label)}</text>"
        )
    parts.append("</g>")
    return "".join(parts), height
