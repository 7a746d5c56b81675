"""Plotly figure builders: pure functions of data, no Streamlit."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnistviz import curves, text
from mnistviz.curves import PER_BATCH

# Okabe & Ito's colour-blind-safe palette (yellow left out: it vanishes on white); display.run_colors
# gives each run one of these for good, so that a run has the same colour on every chart and page.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
TRAIN_COLOR = PALETTE[0]
VAL_COLOR = PALETTE[1]
BAR_COLOR = "#9DC3E0"  # the digits a model did not pick: a pale version of TRAIN_COLOR


def _tidy(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0),
        template="plotly_white",
    )
    return figure


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

    `runs` items have a label, epochs (history rows) and optionally the run's color.
    """
    figure = make_subplots(rows=2, cols=2, horizontal_spacing=0.1, vertical_spacing=0.14)
    for i, curve in enumerate(runs):
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
                    line=dict(color=curve.get("color", PALETTE[i % len(PALETTE)])),
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
    return _tidy(figure, 640)


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


def shift_curves(maps: list[tuple[str, "object"]], colors: list[str] | None = None) -> go.Figure:
    """Accuracy against shift distance (mean over shifts of equal length) and along dx only, all runs overlaid."""
    figure = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("moved in any direction", "moved sideways only")
    )
    figure.update_annotations(font_size=13)
    for i, (label, shift_map) in enumerate(maps):
        color = colors[i] if colors else PALETTE[i % len(PALETTE)]
        for col, (x, accuracy) in enumerate((shift_map.by_distance(), shift_map.horizontal()), start=1):
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=accuracy,
                    mode="lines+markers",
                    name=text.plotly(label),
                    line=dict(color=color),
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
    figure.update_layout(legend_y=1.12)  # above the two plots' titles
    return figure


def consistency_curves(curves: list[tuple[str, "object"]], colors: list[str] | None = None) -> go.Figure:
    """Consistency against the distance moved: the share of test digits whose answer did not change, per run."""
    figure = go.Figure()
    for i, (label, consistency) in enumerate(curves):
        figure.add_trace(
            go.Scatter(
                x=consistency.distances,
                y=consistency.consistency,
                mode="lines+markers",
                name=text.plotly(label),
                line=dict(color=colors[i] if colors else PALETTE[i % len(PALETTE)]),
            )
        )
    figure.update_xaxes(title_text="pixels moved, random direction")
    figure.update_yaxes(title_text="answer unchanged", range=[0, 1.02], tickformat=".0%")
    return _tidy(figure, 360)


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
    if shown.layout.height:
        shown.update_layout(height=round(shown.layout.height * 1.25))
    return shown
