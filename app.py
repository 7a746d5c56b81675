"""mnistviz: the dashboard's entry point (`streamlit run app.py`)."""

import streamlit as st

from mnistviz import jobs, ui

st.set_page_config(page_title="mnistviz", page_icon=":material/grid_on:", layout="wide")
with st.spinner("Starting TensorFlow: the first page after the server starts takes a few seconds..."):
    jobs.bound_tensorflow_threads()  # before TensorFlow first runs: training must leave the pages a core
ui.keep_keras_state_between_reruns()  # or a watched run trains many times slower
ui.teacher_panel()

pages = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/draw.py", title="Draw", icon=":material/draw:"),
]
st.navigation(pages).run()
