"""Plotly figure builders: pure functions of data, no Streamlit."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnistviz.results import smooth

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]


def _tidy(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0),
        template="plotly_white",
    )
    return figure


def training_curves(batches, epochs: list[dict], smoothing: float = 0.6, epochs_total: int | None = None) -> go.Figure:
    """Loss and accuracy side by side: training per batch (smoothed), validation per epoch.

    `batches` is a DataFrame from `results.batch_curve`; `epochs` the per-epoch history rows.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.08)
    for col, metric in ((1, "loss"), (2, "accuracy")):
        if len(batches):
            figure.add_trace(
                go.Scatter(
                    x=batches["epoch_position"],
                    y=smooth(batches[metric], smoothing),
                    mode="lines",
                    name="training (per batch)",
                    line=dict(color=TRAIN_COLOR),
                    legendgroup="train",
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
                    legendgroup="val",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    upper = epochs_total if epochs_total else None
    figure.update_xaxes(title_text="epoch", range=[0, upper] if upper else None)
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
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


def compare_curves(curves: list[dict], metric: str, smoothing: float) -> go.Figure:
    """Per-epoch curves of several runs overlaid: `curves` items have label, epochs (history rows)."""
    figure = go.Figure()
    for i, curve in enumerate(curves):
        rows = [e for e in curve["epochs"] if e.get(metric) is not None]
        if not rows:
            continue
        figure.add_trace(
            go.Scatter(
                x=[e["epoch"] for e in rows],
                y=smooth([e[metric] for e in rows], smoothing),
                mode="lines+markers",
                name=curve["label"],
                line=dict(color=PALETTE[i % len(PALETTE)]),
            )
        )
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(title_text=metric.replace("_", " "))
    figure.update_layout(title=metric.replace("val_", "validation ").replace("_", " "))
    return _tidy(figure, 360)
