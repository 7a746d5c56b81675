"""Plotly figure builders: pure functions of data, no Streamlit."""

from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnistviz.runs import curves
from mnistviz.runs.curves import PER_BATCH
from mnistviz.show import text

# Okabe & Ito's colour-blind-safe palette (yellow left out: it vanishes on white); display.run_styles
# gives each run one of these for good, so that a run has the same colour on every chart and page.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
TRAIN_COLOR = PALETTE[0]
VAL_COLOR = PALETTE[1]
BAR_COLOR = "#9DC3E0"  # the digits a model did not pick: a pale version of TRAIN_COLOR
# a run's second and third cue; each list's length shares no factor with the others' (7, 6, 5)
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x"]


@dataclass(frozen=True)
class RunStyle:
    """How one run is drawn on every chart: a colour, and a dash and a marker for readers who cannot tell colours."""

    color: str
    dash: str = "solid"
    symbol: str = "circle"


def run_style(index: int) -> RunStyle:
    """The style of the `index`-th run: colour, dash and marker each cycle at their own length.

    So any 42 runs in a row differ in colour or dash (ten runs of the Shift Lab never look alike, as
    seven colours alone made them), and any 210 in colour, dash or marker.
    """
    return RunStyle(PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)], SYMBOLS[index % len(SYMBOLS)])


def _style(given: RunStyle | str | None, index: int) -> RunStyle:
    """A series' style: the run's own, or a bare colour (callers that give one) on the `index`-th dash and marker."""
    if isinstance(given, RunStyle):
        return given
    default = run_style(index)
    return default if given is None else replace(default, color=given)


def _styled_line(style: RunStyle) -> dict:
    """The trace settings that draw a run in its style: line colour and dash, marker colour and symbol."""
    return dict(line=dict(color=style.color, dash=style.dash), marker=dict(color=style.color, symbol=style.symbol))


def _tidy(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0),
        template="plotly_white",
    )
    return figure


PHONE_LEGEND_PX = 260  # a legend's rows are as wide as the plots: on a 390-px phone, the narrowest screen to read on
PROJECTOR_LEGEND_PX = 900  # and on a projector's wide page
FONT_PX = 12  # the legend's text size (plotly's default, and Streamlit's theme's)
AXIS_PX = 70  # what the legend must not cover under the plots: Streamlit's theme puts the x axis' title ~60 px down
LEGEND_ROW_PX = 20  # a row of the legend at FONT_PX
GROUP_GAP_PX = 10  # plotly's gap between legend groups, which a horizontal legend adds to every row


def _legend_rows(names: list[str], font_px: float, width_px: float) -> int:
    """How many rows a horizontal legend of `names` wraps into, `width_px` wide (an estimate on the safe side)."""
    rows, used = 0, width_px
    for name in names:
        entry = min(width_px, 50 + 0.6 * font_px * len(name))  # the line sample, the gaps, then the text
        if used + entry > width_px:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def _legend_below(
    figure: go.Figure, plot_px: float, font_px: float = FONT_PX, width_px: float = PHONE_LEGEND_PX
) -> go.Figure:
    """The legend under the plots, below the x axis' title, the figure grown by the rows it takes on a phone.

    Above the plots, a phone's narrow legend wrapped into rows that covered the charts' titles; the
    plots keep their height (`plot_px`) whatever the number of runs.
    """
    names = [trace.name for trace in figure.data if trace.showlegend is not False and trace.name]
    row = LEGEND_ROW_PX * font_px / FONT_PX + (GROUP_GAP_PX if any(trace.legendgroup for trace in figure.data) else 0)
    axis = AXIS_PX * font_px / FONT_PX
    bottom = axis + _legend_rows(names, font_px, width_px) * row + 10
    top = figure.layout.margin.t or 0
    figure.update_layout(
        height=round(plot_px + top + bottom),
        margin_b=round(bottom),
        showlegend=True,  # a single run is named too: the room is there
        legend=dict(orientation="h", yanchor="top", y=-axis / plot_px, xanchor="left", x=0),
    )
    return figure


def _legend_is_below(figure: go.Figure) -> bool:
    """Whether `_legend_below` laid the figure out."""
    return figure.layout.legend.y is not None and figure.layout.legend.y < 0


def _fraction_heatmap(z, x, y, show_scale: bool, scale_title: str, hover: str) -> go.Heatmap:
    """A heatmap of fractions (accuracy, probability) on the shared 0..1 colour scale of every map."""
    return go.Heatmap(
        z=z,
        x=x,
        y=y,
        zmin=0,
        zmax=1,
        colorscale="Viridis",
        showscale=show_scale,
        colorbar=dict(title=scale_title, tickformat=".0%"),
        hovertemplate=hover + "<extra></extra>",
    )


def training_curves(
    batches, epochs: list[dict], epochs_total: int | None = None, batch_values: str = PER_BATCH
) -> go.Figure:
    """Loss and accuracy side by side: each batch's own value (faint) and its smoothed trend, validation per epoch.

    `batches` is a DataFrame from `curves.batch_curve`; `epochs` the per-epoch history rows. A history
    that holds Keras' running means (`batch_values`, runs of earlier versions) is drawn as one line, named
    for what it is: it restarts at every epoch.
    """
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    upper = epochs_total or max([e["epoch"] for e in epochs] + [1])
    weight = curves.batch_smoothing(len(batches), float(batches["epoch_position"].max()) if len(batches) else 1)
    own = batch_values == PER_BATCH
    for col, metric in ((1, "loss"), (2, "accuracy")):
        if len(batches):
            lines = []
            if own and weight > 0:
                lines.append(("training, each batch", batches[metric], dict(color=TRAIN_COLOR, width=1), 0.3))
            name = "training (smoothed)" if own and weight > 0 else "training, each batch"
            if not own:
                name = "training (running mean, restarts each epoch)"
            lines.append((name, curves.smooth(batches[metric], weight if own else 0), dict(color=TRAIN_COLOR), 1.0))
            for name, values, line, opacity in lines:
                figure.add_trace(
                    go.Scatter(
                        x=batches["epoch_position"],
                        y=values,
                        mode="lines",
                        name=name,
                        line=line,
                        opacity=opacity,
                        legendgroup=name,
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
        valid = [e for e in epochs if e.get(f"val_{metric}") is not None]
        if valid:
            figure.add_trace(
                go.Scatter(
                    x=[e["epoch"] for e in valid],
                    y=[e[f"val_{metric}"] for e in valid],
                    mode="lines+markers",
                    name="validation (per epoch)",
                    line=dict(color=VAL_COLOR),
                    marker=dict(size=8),
                    cliponaxis=False,  # the last epoch's marker sits on the axis' end
                    legendgroup="val",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text="epoch", range=[0, upper * 1.02])
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="accuracy", tickformat=".0%", row=1, col=2)
    return _tidy(figure, 340)


def confusion_figure(counts: np.ndarray) -> go.Figure:
    """Heatmap of counts[true, predicted], diagonal included, numbers in the cells."""
    figure = go.Figure(
        go.Heatmap(
            z=counts,
            x=[str(d) for d in range(10)],
            y=[str(d) for d in range(10)],
            colorscale="Blues",
            text=counts,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="predicted digit", side="bottom")
    figure.update_yaxes(title_text="true digit", autorange="reversed")
    return _tidy(figure, 420)


def digit_gallery(images: np.ndarray, titles: list[str], columns: int = 8) -> go.Figure:
    """Small multiples of uint8 digits (white on black), each with a title."""
    count = len(images)
    rows = max(1, -(-count // columns))
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.08
    )
    for i, image in enumerate(images):
        figure.add_trace(
            go.Heatmap(z=image, colorscale="gray", zmin=0, zmax=255, showscale=False, hoverinfo="skip"),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_annotations(font_size=11)
    return _tidy(figure, 120 * rows + 40)


COMPARED_METRICS = (
    ("val_accuracy", "validation accuracy"),
    ("val_loss", "validation loss"),
    ("accuracy", "training accuracy"),
    ("loss", "training loss"),
)


def compare_curves(runs: list[dict], smoothing: float) -> go.Figure:
    """Per-epoch validation and training accuracy and loss of several runs overlaid, with one legend for all four.

    `runs` items have a label, epochs (history rows) and optionally the run's `style` (display.run_styles)
    or a bare `color`.
    """
    figure = make_subplots(rows=2, cols=2, horizontal_spacing=0.1, vertical_spacing=0.14)
    for i, curve in enumerate(runs):
        style = _style(curve.get("style", curve.get("color")), i)
        for place, (metric, _) in enumerate(COMPARED_METRICS):
            rows = [e for e in curve["epochs"] if e.get(metric) is not None]
            if not rows:
                continue
            figure.add_trace(
                go.Scatter(
                    x=[e["epoch"] for e in rows],
                    y=curves.smooth([e[metric] for e in rows], smoothing),
                    mode="lines+markers",
                    name=text.plotly(curve["label"]),
                    **_styled_line(style),
                    legendgroup=curve["label"],
                    showlegend=not any(trace.legendgroup == curve["label"] for trace in figure.data),
                ),
                row=place // 2 + 1,
                col=place % 2 + 1,
            )
    for place, (metric, title) in enumerate(COMPARED_METRICS):
        row, col = place // 2 + 1, place % 2 + 1
        figure.update_yaxes(title_text=title, row=row, col=col)
        if metric.endswith("accuracy"):
            figure.update_yaxes(tickformat=".0%", row=row, col=col)
    figure.update_xaxes(title_text="epoch", row=2)
    _tidy(figure, 640)
    return _legend_below(figure, plot_px=590)


def shift_heatmap(label: str, shift_map) -> go.Figure:
    """One run's accuracy over shifts (dx right, dy down), on the 0..1 scale every map shares.

    One figure per run, so that a page lays them out in as many columns as its width holds; the
    colour bar lies under the map, where it takes no width from it.
    """
    axis, grid = shift_map.grid()
    figure = go.Figure(_fraction_heatmap(grid, axis, axis, True, "accuracy", "dx %{x}, dy %{y}: %{z:.1%}"))
    figure.update_traces(
        colorbar=dict(orientation="h", thickness=10, y=-0.28, yanchor="top", len=1, title=dict(side="right"))
    )
    figure.update_xaxes(title_text="dx (pixels)", constrain="domain", nticks=5)
    figure.update_yaxes(title_text="dy (pixels)", autorange="reversed", scaleanchor="x", constrain="domain", nticks=5)
    figure.update_layout(title=dict(text=text.plotly(label).replace(" · ", "<br>", 1), font_size=13, x=0.02))
    _tidy(figure, 330)
    figure.update_layout(margin=dict(l=10, r=10, t=60, b=70))
    return figure


def shift_curves(maps: list[tuple[str, "object"]], styles: list[RunStyle | str] | None = None) -> go.Figure:
    """Accuracy against shift distance (mean over shifts of equal length) and along dx only, all runs overlaid.

    `styles` are the runs' own (display.run_styles), so a run looks the same on every chart; bare
    colours are taken too.
    """
    figure = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("moved in any direction", "moved sideways only")
    )
    figure.update_annotations(font_size=13)
    for i, (label, shift_map) in enumerate(maps):
        style = _style(styles[i] if styles else None, i)
        for col, (x, accuracy) in enumerate((shift_map.by_distance(), shift_map.horizontal()), start=1):
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=accuracy,
                    mode="lines+markers",
                    name=text.plotly(label),
                    **_styled_line(style),
                    legendgroup=label,
                    showlegend=col == 1,  # one legend entry per run
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text="distance (px)", row=1, col=1)  # short: two plots share a phone's width
    figure.update_xaxes(title_text="dx (px)", row=1, col=2)
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    figure.update_yaxes(title_text="test accuracy", row=1, col=1)
    _tidy(figure, 380)
    return _legend_below(figure, plot_px=330)


def stability_curves(curves: list[tuple[str, "object"]], styles: list[RunStyle | str] | None = None) -> go.Figure:
    """Stability against the distance moved from the centre: the share of test digits whose answer did not change.

    `curves` hold `shifts.Stability`; `styles` as for `shift_curves`.
    """
    figure = go.Figure()
    for i, (label, stability) in enumerate(curves):
        figure.add_trace(
            go.Scatter(
                x=stability.distances,
                y=stability.stability,
                mode="lines+markers",
                name=text.plotly(label),
                **_styled_line(_style(styles[i] if styles else None, i)),
            )
        )
    figure.update_xaxes(title_text="pixels moved from the centre, random direction")
    figure.update_yaxes(title_text="answer unchanged", range=[0, 1.02], tickformat=".0%")
    _tidy(figure, 360)
    return _legend_below(figure, plot_px=310)


def cross_matrix_figure(cells: dict, arch: str) -> go.Figure:
    """The 2x2 matrix of one architecture: trained on (rows) x tested on (columns); blank where not trained."""
    variants = ["centered", "offset"]
    z, text = [], []
    for trained in variants:
        row = cells.get((arch, trained))
        z.append([row[tested] if row else None for tested in variants])
        text.append([f"{row[tested]:.1%}" if row else "not trained" for tested in variants])
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"tested on {v}" for v in variants],
            y=[f"trained on {v}" for v in variants],
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=16),
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            showscale=False,
            hoverinfo="skip",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(title=arch.upper())
    return _tidy(figure, 260)


PROJECTOR_TEXT_PX = 20  # titles, legends, annotations and numbers in cells on a projector
PROJECTOR_TICK_PX = 18  # axis ticks (at least 16 px)
PROJECTOR_LINE_PX = 3


def for_projector(figure: go.Figure) -> go.Figure:
    """A copy of `figure` readable from the back of a room: larger text and ticks, thicker lines, taller."""
    shown = go.Figure(figure)
    shown.update_layout(
        font_size=PROJECTOR_TEXT_PX, legend_font_size=PROJECTOR_TEXT_PX, hoverlabel_font_size=PROJECTOR_TEXT_PX
    )
    shown.update_xaxes(tickfont_size=PROJECTOR_TICK_PX, title_font_size=PROJECTOR_TEXT_PX)
    shown.update_yaxes(tickfont_size=PROJECTOR_TICK_PX, title_font_size=PROJECTOR_TEXT_PX)
    shown.update_annotations(font_size=PROJECTOR_TEXT_PX)
    for trace in shown.data:
        if trace.type == "scatter":
            mode = trace.mode or "lines"
            if "lines" in mode:
                trace.line.width = max(trace.line.width or 0, PROJECTOR_LINE_PX)
            if "markers" in mode:
                trace.marker.size = max(trace.marker.size or 0, 12)
        elif trace.type in ("heatmap", "bar") and trace.text is not None:
            trace.textfont.size = max(trace.textfont.size or 0, PROJECTOR_TEXT_PX)
    if _legend_is_below(figure):  # the legend's rows grow with its text: their room is counted again
        margin = figure.layout.margin
        plot_px = (figure.layout.height - margin.t - margin.b) * 1.25
        _legend_below(shown, plot_px, PROJECTOR_TEXT_PX, PROJECTOR_LEGEND_PX)
    elif shown.layout.height:
        shown.update_layout(height=round(shown.layout.height * 1.25))
    return shown


def reach_figure(maps: dict[str, np.ndarray]) -> go.Figure:
    """Side by side, how many paths lead from each pixel to the CNN's head, as a share of the most-reached pixel.

    `maps` holds `reach.paths_to_head` counts under their titles; one colour scale (0..1) for all, so that
    a dim border reads as dim everywhere. The dashed square is the central half: on the field, the window.
    """
    figure = make_subplots(rows=1, cols=len(maps), subplot_titles=list(maps), horizontal_spacing=0.06)
    for col, paths in enumerate(maps.values(), start=1):
        size = len(paths)
        heatmap = _fraction_heatmap(
            paths / paths.max(),
            np.arange(size),
            np.arange(size),
            col == len(maps),
            "share of paths",
            "row %{y}, column %{x}: %{z:.1%} of the most-reached pixel's paths (%{customdata})",
        )
        heatmap.customdata = paths
        figure.add_trace(heatmap, row=1, col=col)
        low, high = size // 4 - 0.5, size - size // 4 - 0.5
        figure.add_shape(
            type="rect", x0=low, y0=low, x1=high, y1=high, line=dict(color="white", dash="dash"), row=1, col=col
        )
        anchor = "x" if col == 1 else f"x{col}"
        figure.update_yaxes(autorange="reversed", scaleanchor=anchor, constrain="domain", row=1, col=col)
    figure.update_xaxes(title_text="column", constrain="domain")
    figure.update_yaxes(title_text="row", col=1)
    figure.update_annotations(font_size=13)
    return _tidy(figure, 380)
