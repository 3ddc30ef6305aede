"""Charts for the editors' workbench, drawn on the server with matplotlib as SVG and embedded as
``data:`` images (the admin's Content-Security-Policy allows ``img-src data:``; no script, no
second request, and a chart cannot clash with the page's ids or styles).

matplotlib is used through ``Figure`` and its SVG canvas only, never ``pyplot``: no global
figure state, so concurrent requests in one process cannot draw into each other's chart, and no
GUI backend is ever chosen (the Agg family is what renders). Text stays text
(``svg.fonttype: none``), which keeps a chart a few kilobytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KEY_COLOUR = "#2e7d32"
SUSPECT_COLOUR = "#c62828"
OTHER_COLOURS = ("#1565c0", "#6a1b9a", "#ef6c00", "#00838f", "#8d6e63", "#5d4037", "#455a64")
BAR_COLOUR = "#417690"  # the admin's header blue
QUINTILE_LABELS = ("lowest", "2nd", "3rd", "4th", "highest")
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "openmrcs",  # stable ids: the same data draws the same bytes
}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def _data_uri(figure: Figure) -> str:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def option_quintile_chart(
    *,
    options: Sequence[dict[str, object]],
    labels: dict[int, str],
    suspected_option_id: int | None,
) -> str | None:
    """Pick rate (percent) of each option in each ability quintile, lowest ability left: a
    good key climbs to the right, a distractor falls; a distractor that climbs above the key is
    what a wrong key looks like. The key is drawn thick green, a suspected option dashed red.
    None when no quintile has a value."""
    import matplotlib

    series = [o for o in options if any(v is not None for v in _quintiles(o))]
    if not series:
        return None
    with matplotlib.rc_context(_STYLE):
        figure = _figure(6.4, 3.0)
        axes = figure.subplots()
        others = iter(OTHER_COLOURS * 3)
        for option in series:
            option_id = int(str(option.get("option_id")))
            label = labels.get(option_id, f"#{option_id}")
            values = [float("nan") if v is None else float(v) for v in _quintiles(option)]
            if option.get("is_key"):
                style = {"color": KEY_COLOUR, "linewidth": 3.0, "label": f"{label} (key)"}
            elif option_id == suspected_option_id:
                style = {
                    "color": SUSPECT_COLOUR,
                    "linewidth": 2.2,
                    "linestyle": "--",
                    "label": f"{label} (suspected)",
                }
            else:
                style = {"color": next(others), "linewidth": 1.3, "label": label}
            axes.plot(range(1, 6), values, marker="o", markersize=4, **style)  # type: ignore[arg-type]
        axes.set_xticks(range(1, 6), QUINTILE_LABELS)
        axes.set_xlabel("ability quintile (by rest score)")
        axes.set_ylabel("picked (%)")
        axes.set_ylim(0, 100)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        return _data_uri(figure)


def _quintiles(option: dict[str, object]) -> list[float | None]:
    values = option.get("by_quintile") or []
    return [v if isinstance(v, int | float) else None for v in list(values)[:5]]  # type: ignore[call-overload]


def answers_per_day_chart(days: Sequence[tuple[date, int, int]]) -> str | None:
    """Answers per day (bars) with the correct ones overlaid; None without any answer."""
    import matplotlib

    if not any(answered for _, answered, _ in days):
        return None
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.2, 2.4)
        axes = figure.subplots()
        xs = list(range(len(days)))
        axes.bar(xs, [a for _, a, _ in days], color="#9fc3d6", label="answered")
        axes.bar(xs, [c for _, _, c in days], color=BAR_COLOUR, width=0.5, label="correct")
        step = max(1, len(days) // 10)
        axes.set_xticks(xs[::step], [d.strftime("%d %b") for d, _, _ in days][::step])
        axes.set_ylabel("answers")
        axes.legend(frameon=False, loc="upper left")
        axes.grid(axis="y", alpha=0.3)
        return _data_uri(figure)


def horizontal_bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    xlabel: str,
    xmax: float | None = None,
    counts: bool = False,
) -> str | None:
    """One bar per row, the first on top (``counts``: whole-number ticks); None without rows."""
    import matplotlib

    if not rows:
        return None
    with matplotlib.rc_context(_STYLE):
        figure = _figure(5.6, 0.5 + 0.28 * len(rows))
        axes = figure.subplots()
        ys = list(range(len(rows)))[::-1]
        axes.barh(ys, [v for _, v in rows], color=BAR_COLOUR)
        axes.set_yticks(ys, [label for label, _ in rows])
        axes.set_xlabel(xlabel)
        if xmax is not None:
            axes.set_xlim(0, xmax)
        if counts:
            from matplotlib.ticker import MaxNLocator

            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="x", alpha=0.3)
        return _data_uri(figure)
