"""Tables, rendered one way: Markdown for every command that prints one (report, compare,
history, claims, the NumPy and PyTorch peers), aligned text for run_suite's summary."""
from __future__ import annotations

from typing import Sequence


def cell(s: str) -> str:
    """Text safe in a table cell: a | would end the cell, a newline the row."""
    return s.replace("|", "\\|").replace("\n", " ")


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    """The lines of a Markdown table. align has a letter per column, l (the default) or r:
    numbers right-aligned where a reader compares them down a column."""
    rule = ["---:" if align[i:i + 1] == "r" else "---" for i in range(len(header))]
    return ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join(rule) + "|"] + [
        "| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def aligned(rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """rows as lines whose columns line up: each column as wide as its widest cell, one space
    between columns, the first `left` aligned left (names) and the rest right (numbers)."""
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return [" ".join(c.ljust(w) if i < left else c.rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
