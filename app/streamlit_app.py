"""The dashboard's entry point: `streamlit run app/streamlit_app.py`.

The sidebar (filters bound to the URL, data freshness, Sync now) is drawn here, before the page, so
its state carries across pages; each page in app_pages/ only reads the filters and draws."""
import streamlit as st

from app import sidebar

st.set_page_config(page_title="AI impact scorecard", page_icon="📊", layout="wide")

pages = {
    "Scorecard": [
        st.Page("app_pages/scorecard.py", title="Scorecard", icon=":material/dashboard:", default=True),
    ],
    "Drill down": [
        st.Page("app_pages/rollbacks.py", title="Rollbacks", icon=":material/undo:"),
        st.Page("app_pages/incidents.py", title="Incidents & MTTR", icon=":material/emergency:"),
        st.Page("app_pages/support.py", title="Support", icon=":material/support_agent:"),
        st.Page("app_pages/spend.py", title="AI spend", icon=":material/payments:"),
    ],
    "Reference": [
        st.Page("app_pages/export.py", title="Export", icon=":material/download:"),
        st.Page("app_pages/definitions.py", title="Definitions", icon=":material/menu_book:"),
    ],
}
page = st.navigation(pages)
sidebar.render()
page.run()
