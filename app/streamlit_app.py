"""The dashboard's entry point: `streamlit run app/streamlit_app.py`.

Sign-in comes first (app/access.py: who is using the app, in which role); the navigation then offers
only the pages that role may open, so a page outside it cannot be reached by its URL either. The
sidebar (filters bound to the URL, data freshness, Sync now for admins) is drawn here, before the page,
so its state carries across pages; each page in app_pages/ only reads the filters and draws."""
import streamlit as st

from app import access, sidebar, state
from governance.changes import config_hash

st.set_page_config(page_title="AI impact scorecard", page_icon="📊", layout="wide")

user = access.gate()
state.record_config_version(config_hash(state.config()))

# section → (script, title, icon, the capability it needs, default page)
PAGES = {
    "Scorecard": [
        ("app_pages/scorecard.py", "Scorecard", ":material/dashboard:", "scorecard", True),
        ("app_pages/governance.py", "Governance", ":material/policy:", "scorecard", False),
        ("app_pages/adoption.py", "Adoption", ":material/groups:", "scorecard", False),
    ],
    "Drill down": [
        ("app_pages/delivery.py", "Delivery", ":material/rocket_launch:", "drill_down", False),
        ("app_pages/rollbacks.py", "Rollbacks", ":material/undo:", "drill_down", False),
        ("app_pages/incidents.py", "Incidents & MTTR", ":material/emergency:", "drill_down", False),
        ("app_pages/support.py", "Support", ":material/support_agent:", "drill_down", False),
        ("app_pages/spend.py", "AI spend", ":material/payments:", "drill_down", False),
        ("app_pages/pr.py", "Pull request", ":material/merge:", "drill_down", False),
        ("app_pages/deployment.py", "Deployment", ":material/deployed_code:", "drill_down", False),
        ("app_pages/incident.py", "Incident", ":material/crisis_alert:", "drill_down", False),
    ],
    "Reference": [
        ("app_pages/export.py", "Export", ":material/download:", "export", False),
        ("app_pages/definitions.py", "Definitions", ":material/menu_book:", "scorecard", False),
        ("app_pages/audit.py", "Audit log", ":material/history:", "admin", False),
    ],
}
# Reached by the id links in tables, not from the menu (a longer menu folds its last entries under
# "View more"); their URLs and st.page_link work all the same.
LINKED_ONLY = {"app_pages/deployment.py", "app_pages/incident.py"}
pages = {
    section: [st.Page(path, title=title, icon=icon, default=default,
                      visibility="hidden" if path in LINKED_ONLY else "visible")
              for path, title, icon, capability, default in entries if user.can(capability)]
    for section, entries in PAGES.items()
}
page = st.navigation({section: entries for section, entries in pages.items() if entries})
filters = sidebar.render()
access.record_view(page.title, filters.team)
page.run()
