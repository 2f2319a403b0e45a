"""The sidebar's page links, on every page.

Streamlit's automatic navigation (turned off in .streamlit/config.toml, `client.showSidebarNavigation`) names
each page after its file, so the home page read "app"; these links name it "Home". The pages stay the classic
`app.py` + `pages/` layout (no `st.navigation`: a deep link right after a server start would bypass it)."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

PAGES = (
    ("app.py", "Home"),
    ("pages/1_Loss_landscape.py", "Loss landscape"),
    ("pages/2_Gradient_check.py", "Gradient check"),
    ("pages/3_Optimizers_and_learning_rate.py", "Optimizers and learning rate"),
    ("pages/4_Runs.py", "Runs"),
    ("pages/5_Batch_size_scaling.py", "Batch-size scaling"),
    ("pages/6_Data_and_model.py", "Data and model"),
)


def page_links() -> None:
    """One link per page at the top of the sidebar (the current page's is highlighted). A page run as its own
    entry script (`streamlit run pages/4_Runs.py`, `AppTest.from_file` of a page) has no pages to link to:
    Streamlit resolves the paths against the entry script's folder. It then draws none."""
    with st.sidebar:
        for path, label in PAGES:
            try:
                st.page_link(path, label=label)
            except StreamlitPageNotFoundError:
                return
