"""Page sections more than one page shows."""

import streamlit as st

from mnistviz.analysis import shift_maps
from mnistviz.errors import MnistvizError
from mnistviz.learning import notebook
from mnistviz.show import display, plots, text
from mnistviz.training.jobs import JobManager
from mnistviz.ui.live import refresh_while
from mnistviz.ui.session import queued_message, show_error, submit
from mnistviz.ui.style import chart


def cross_matrix_section(manager: JobManager) -> None:
    """The 2x2 matrix of the best notebook runs, computed in the background; what trains or waits for a cell,
    and a button for the cells nothing trains."""

    task = shift_maps.cross_matrix_task(manager.tasks, manager.store)

    @refresh_while(lambda: not task.done.is_set() or bool(notebook.cells_in_training(manager.active())))
    def matrix_view() -> None:
        if not task.done.is_set():
            st.progress(task.progress, text="Testing the saved models on centered and offset digits...")
            return
        if task.error:
            st.error(text.markdown(task.error), icon=":material/error:")
            return
        cells = task.result
        if not cells:
            st.info(
                "No notebook model is trained yet, so the matrix is empty. Train them with the button below (or "
                "the class preset on Home); each one fills its row when it finishes.",
                icon=":material/grid_view:",
            )
        else:
            with st.container(key="grid-matrix"):
                for arch in ("mlp", "cnn"):
                    chart(plots.cross_matrix_figure(cells, arch), key=f"matrix-{arch}")
            open_matrix_cell(manager, cells)
        training = notebook.cells_in_training(manager.active())
        for (arch, data_name), job in training.items():
            if (arch, data_name) not in cells:
                st.write(f"{arch.upper()} on {data_name}: {display.training_state(job.snapshot())}")
        missing = [cell for cell in notebook.cells() if cell not in cells and cell not in training]
        if missing:
            st.write("Not trained yet: " + ", ".join(f"{a.upper()} on {d}" for a, d in missing))
            if st.button("Train the missing ones with the notebook's settings", icon=":material/play_arrow:"):
                try:
                    jobs = submit([notebook.cell_spec(arch, data_name) for arch, data_name in missing])
                    st.toast(queued_message(jobs) + " Watch them on Train.")
                except MnistvizError as error:
                    show_error(error)

    matrix_view()


def open_matrix_cell(manager: JobManager, cells: dict) -> None:
    """Any cell of the 2x2 matrix, opened: the test digits the model got wrong, as it saw them."""
    choices = {
        f"{arch}|{trained}|{tested}": f"{arch.upper()} trained on {trained} digits, tested on {tested} digits"
        for (arch, trained) in cells
        for tested in ("centered", "offset")
    }
    key = st.selectbox(
        "Open a cell: the digits it got wrong",
        [None, *choices],
        format_func=lambda choice: "Choose a cell" if choice is None else choices[choice],
        key="matrix-cell",
    )
    if key is None:
        return
    arch, trained, tested = key.split("|")
    try:
        digits = shift_maps.cell_digits(manager.store, cells[(arch, trained)]["run_id"], tested)
    except MnistvizError as error:
        show_error(error)
        return
    st.markdown(f"**{choices[key]}**: {digits.wrong} of {digits.tested} wrong")
    if len(digits.images):
        chart(
            plots.digit_gallery(digits.images, digits.titles, columns=8),
            key="matrix-cell-digits",
            config={"staticPlot": True},
        )
        st.caption("Each digit as this model receives it (a centered model: the middle 28x28), titled true → answer.")
