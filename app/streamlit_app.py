"""The dashboard's entry point: `streamlit run app/streamlit_app.py`."""
import streamlit as st

st.set_page_config(page_title="AI impact scorecard", page_icon="📊", layout="wide")

pages = [
    st.Page("app_pages/scorecard.py", title="Scorecard", icon="📊", default=True),
    st.Page("app_pages/definitions.py", title="Definitions", icon="📖"),
]
st.navigation(pages).run()
