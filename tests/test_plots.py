"""The figures: what they plot and how a reader tells the series apart, checked on the figure objects."""

from itertools import pairwise
from types import SimpleNamespace

import numpy as np
import pandas as pd

from mnistviz.analysis.shifts import ShiftMap
from mnistviz.show import plots


def history(accuracies: list[float]) -> list[dict]:
    return [
        {"epoch": i + 1, "accuracy": a, "loss": 1 - a, "val_accuracy": a - 0.01, "val_loss": 1.01 - a}
        for i, a in enumerate(accuracies)
    ]


def legend_names(figure) -> list[str]:
    return [trace.name for trace in figure.data if trace.showlegend is not False]


def test_training_curves_show_each_batch_faint_behind_its_trend_and_validation_per_epoch():
    position = np.arange(1, 201) / 100
    loss = np.where(np.arange(200) % 2, 1.0, 0.0)  # noisy: alternating batches
    batches = pd.DataFrame({"epoch_position": position, "loss": loss, "accuracy": 1 - loss})
    figure = plots.training_curves(batches, history([0.9, 0.95]), epochs_total=5)
    assert legend_names(figure) == ["training, each batch", "training (smoothed)", "validation (per epoch)"]
    raw, trend = figure.data[0], figure.data[1]
    assert list(raw.y) == list(loss) and raw.opacity < 0.5  # the batches' own values, faint
    assert np.ptp(trend.y[50:]) < 0.2  # the trend line averages the noise out
    assert figure.layout.xaxis.range[1] > 5  # the axis spans the whole run while it grows
    validation = [trace for trace in figure.data if trace.name == "validation (per epoch)"]
    assert all(trace.cliponaxis is False for trace in validation)  # the last marker is not cut at the edge
    assert not figure.layout.annotations  # no subplot titles for the legend to cover: the axes say it
    assert (figure.layout.yaxis.title.text, figure.layout.yaxis2.title.text) == ("loss", "accuracy")


def test_training_curves_of_running_means_say_what_they_hold():
    batches = pd.DataFrame({"epoch_position": [0.5, 1.0, 1.5, 2.0], "loss": [2, 1, 0.5, 0.4], "accuracy": [0.3] * 4})
    figure = plots.training_curves(batches, history([0.9, 0.95]), batch_values="running_mean")
    assert legend_names(figure)[0] == "training (running mean, restarts each epoch)"
    assert list(figure.data[0].y) == [2, 1, 0.5, 0.4]  # drawn as they are, not smoothed again


def test_compare_curves_draw_four_metrics_with_one_legend_entry_per_run():
    curves = [
        {"label": "MLP centered", "epochs": history([0.9, 0.95])},
        {"label": "CNN centered", "epochs": history([0.97, 0.99])},
    ]
    figure = plots.compare_curves(curves, smoothing=0.0)
    assert len(figure.data) == 8
    assert legend_names(figure) == ["MLP centered", "CNN centered"]
    titles = [figure.layout[f"yaxis{'' if i == 1 else i}"].title.text for i in range(1, 5)]
    assert titles == ["validation accuracy", "validation loss", "training accuracy", "training loss"]
    mlp_validation = figure.data[0]
    assert mlp_validation.name == "MLP centered" and list(mlp_validation.y) == [0.89, 0.94]


def test_compare_curves_smooth_when_asked():
    curves = [{"label": "run", "epochs": history([0.5, 1.0, 0.5, 1.0])}]
    raw = plots.compare_curves(curves, smoothing=0.0).data[0].y
    smoothed = plots.compare_curves(curves, smoothing=0.8).data[0].y
    assert np.ptp(smoothed) < np.ptp(raw)


def test_shift_maps_put_long_run_labels_on_two_lines_and_share_one_colour_scale():
    shift_map = ShiftMap(
        shifts=[(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], accuracy=[0.5] * 4 + [1.0] + [0.5] * 4
    )
    maps = [("CNN offset · 11-26 12:50 · 7beeaf", shift_map), ("MLP centered · 11-26 12:48 · 9b1491", shift_map)]
    heatmaps = [plots.shift_heatmap(label, shift_map) for label, shift_map in maps]
    assert [figure.layout.title.text for figure in heatmaps] == [
        "CNN offset<br>11-26 12:50 · 7beeaf",
        "MLP centered<br>11-26 12:48 · 9b1491",
    ]
    assert all((figure.data[0].zmin, figure.data[0].zmax) == (0, 1) for figure in heatmaps)  # one scale for all
    assert heatmaps[0].data[0].z[1][1] == 1.0  # the centre of the grid is the unmoved digit
    curves = plots.shift_curves(maps)
    assert legend_names(curves) == ["CNN offset · 11-26 12:50 · 7beeaf", "MLP centered · 11-26 12:48 · 9b1491"]


def test_shift_curves_read_in_percent_on_both_sides():
    shift_map = ShiftMap(shifts=[(dx, 0) for dx in (-2, 0, 2)], accuracy=[0.2, 0.9, 0.3])
    figure = plots.shift_curves([("run", shift_map)])
    assert figure.layout.yaxis.tickformat == figure.layout.yaxis2.tickformat == ".0%"
    assert list(figure.data[1].x) == [-2, 0, 2] and list(figure.data[1].y) == [0.2, 0.9, 0.3]


def test_for_a_projector_text_ticks_and_lines_grow_and_the_original_is_kept():
    batches = pd.DataFrame({"epoch_position": [0.5, 1.0], "loss": [2, 1], "accuracy": [0.3, 0.8]})
    figure = plots.training_curves(batches, history([0.9, 0.95]), epochs_total=2)
    shown = plots.for_projector(figure)
    assert shown.layout.font.size >= 20 and shown.layout.legend.font.size >= 20
    assert shown.layout.xaxis.tickfont.size >= 16 and shown.layout.yaxis2.tickfont.size >= 16
    assert all(trace.line.width >= 3 for trace in shown.data)
    assert figure.layout.font.size is None and figure.data[0].line.width != 3  # the cached figure is untouched
    matrix = plots.for_projector(plots.confusion_figure(np.eye(10, dtype=int)))
    assert matrix.data[0].textfont.size >= 20  # the counts in the cells too


def multi_run_figures(count: int, styles=None) -> dict:
    """The charts that overlay runs, with `count` runs named as the Shift Lab names them."""
    shift_map = ShiftMap(shifts=[(dx, 0) for dx in (-2, 0, 2)], accuracy=[0.2, 0.9, 0.3])
    measured = SimpleNamespace(distances=[1, 2, 4], stability=[0.9, 0.8, 0.7])
    labels = [f"CNN, shifted ±{i} px" for i in range(count)]
    runs = [{"label": label, "epochs": history([0.9, 0.95])} for label in labels]
    if styles:
        runs = [{**run, "style": style} for run, style in zip(runs, styles, strict=True)]
    return {
        "shift curves": plots.shift_curves([(label, shift_map) for label in labels], styles),
        "stability curves": plots.stability_curves([(label, measured) for label in labels], styles),
        "compare curves": plots.compare_curves(runs, smoothing=0.0),
    }


def look(trace) -> tuple:
    return trace.line.color, trace.line.dash, trace.marker.symbol


def test_ten_runs_on_one_chart_never_share_a_colour_and_dash_nor_a_marker():
    for styles in (None, [plots.run_style(i) for i in range(10)]):
        for name, figure in multi_run_figures(10, styles).items():
            looks = {trace.legendgroup or trace.name: set() for trace in figure.data}
            for trace in figure.data:
                looks[trace.legendgroup or trace.name].add(look(trace))
                assert trace.marker.color == trace.line.color, name
            assert all(len(seen) == 1 for seen in looks.values()), name  # a run looks the same on every subplot
            runs = [seen.pop() for seen in looks.values()]
            assert len(runs) == 10, name
            assert len({(color, dash) for color, dash, _ in runs}) == 10, name  # colour and dash alone tell them
            assert len(set(runs)) == 10, name


def test_every_run_differs_from_the_one_before_in_dash_and_marker_and_any_42_in_colour_or_dash():
    styles = [plots.run_style(i) for i in range(210)]
    assert all(a.dash != b.dash and a.symbol != b.symbol for a, b in pairwise(styles))  # a second cue, always
    assert all(len({(s.color, s.dash) for s in styles[i : i + 42]}) == 42 for i in range(len(styles) - 41))
    assert len(set(styles)) == 210


def test_a_run_is_drawn_in_the_style_it_is_given_and_a_bare_colour_still_works():
    shift_map = ShiftMap(shifts=[(dx, 0) for dx in (-2, 0, 2)], accuracy=[0.2, 0.9, 0.3])
    maps = [("older run", shift_map), ("newer run", shift_map)]
    mine = plots.RunStyle("#123456", "longdash", "diamond")
    alone = plots.shift_curves(maps[1:], [mine])
    together = plots.shift_curves(maps, [plots.run_style(0), mine])
    assert look(alone.data[0]) == look(together.data[2]) == ("#123456", "longdash", "diamond")
    black = plots.stability_curves(
        [(label, SimpleNamespace(distances=[1], stability=[0.9])) for label, _ in maps], ["#000000", "#000000"]
    )
    assert [trace.line.color for trace in black.data] == ["#000000", "#000000"]
    assert black.data[0].line.dash != black.data[1].line.dash  # one colour, still told apart


def plot_px(figure) -> float:
    return figure.layout.height - figure.layout.margin.t - figure.layout.margin.b


def test_legends_of_charts_of_several_runs_lie_under_the_axis_titles_where_they_cover_no_title():
    for count in (1, 10):
        for name, figure in multi_run_figures(count).items():
            legend = figure.layout.legend
            assert legend.orientation == "h" and legend.yanchor == "top" and legend.y < 0, name
            assert -legend.y * plot_px(figure) >= 60, name  # Streamlit's theme sets the x axis' title 60 px down
    subplot_titles = multi_run_figures(10)["shift curves"].layout.annotations
    assert subplot_titles and all(title.y >= 1 for title in subplot_titles)  # above the plots, the legend below


def test_a_chart_grows_with_its_legend_on_a_phone_and_keeps_its_plots_height():
    one, ten = multi_run_figures(1), multi_run_figures(10)
    for name in one:
        assert plot_px(one[name]) == plot_px(ten[name]), name
        # a 390-px phone has room for one "CNN, shifted ±2 px" a row: ten rows of about 20 px
        assert ten[name].layout.margin.b >= one[name].layout.margin.b + 9 * 20, name
        shown = plots.for_projector(ten[name])
        assert shown.layout.legend.y < 0 and abs(plot_px(shown) - 1.25 * plot_px(ten[name])) <= 1, name
        assert -shown.layout.legend.y * plot_px(shown) > -ten[name].layout.legend.y * plot_px(
            ten[name]
        )  # larger axis text
