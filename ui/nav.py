"""The sidebar's page links and language switch, on every page.

Streamlit's automatic navigation (turned off in .streamlit/config.toml, `client.showSidebarNavigation`) names
each page after its file, so the home page read "app"; these links name it "Home" (in the session's language,
`ui.i18n`). The pages stay the classic `app.py` + `pages/` layout (no `st.navigation`: a deep link right after a
server start would bypass it)."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ui import heap, i18n
from ui.i18n import t

PAGES = (
    ("app.py", "nav.home"),
    ("pages/1_Loss_landscape.py", "nav.landscape"),
    ("pages/2_Gradient_check.py", "nav.gradcheck"),
    ("pages/3_Optimizers_and_learning_rate.py", "nav.optimizers"),
    ("pages/4_Runs.py", "nav.runs"),
    ("pages/5_Batch_size_scaling.py", "nav.scaling"),
    ("pages/6_Data_and_model.py", "nav.data"),
)
SWITCH_KEY = "lang_switch"


def page_links() -> None:
    """The language (a link's `?lang=`, else the session's, else the browser's: `ui.i18n.resolve`; a bad value is
    said once and the link's `lang` set to English), kept in the URL whenever it is not English, so the address
    bar is a link to the page in this language; then one link per page at the top of the sidebar (the current
    page's is highlighted) and the language switch. A page run as its own entry script (`streamlit run
    pages/4_Runs.py`, `AppTest.from_file` of a page) has no pages to link to: Streamlit resolves the paths against
    the entry script's folder. It then draws no links.

    First `ui.heap.freeze_imported_objects`: at the start of the process's first run (the page's imports are done
    by now) the objects alive are frozen, so that later full collections skip them; then `ui.heap.collect_if_due`
    (a full collection every few seconds at most, in place of Streamlit's after every run)."""
    heap.freeze_imported_objects()
    heap.collect_if_due()
    state, params = st.session_state, st.query_params
    message = i18n.resolve(state, params, st.context.locale)
    if message:
        st.warning(message)
    if state[i18n.STATE_KEY] != i18n.DEFAULT or i18n.PARAM in params:
        params[i18n.PARAM] = state[i18n.STATE_KEY]
    with st.sidebar:
        try:
            for path, key in PAGES:
                st.page_link(path, label=t(key))
        except StreamlitPageNotFoundError:
            pass
        state[SWITCH_KEY] = state[i18n.STATE_KEY]
        st.radio(t("nav.language"), tuple(i18n.LANGS), key=SWITCH_KEY, format_func=i18n.LANGS.get, horizontal=True,
                 on_change=_switch, args=(state, params))


def _switch(state, params) -> None:
    state[i18n.STATE_KEY] = params[i18n.PARAM] = state[SWITCH_KEY]
