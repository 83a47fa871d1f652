"""One incident (`?id=…`, linked from the Incidents and Delivery tables): title, team, service,
severity, started and resolved, the deployment that caused it and how the link was made, and the PRs
that deployment shipped (each linking to its PR view)."""
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.chain_views import incident_view, link_to
from app.views.pr import fmt_when
from reports.format import escape_markdown

filters = sidebar.current()
version = state.current_version()
ui.header("Incident", filters, what="One incident and the change that caused it")

incident_id = ui.item_id("Incident id", placeholder="e.g. pagerduty:P123",
                         help="The Incidents and Delivery tables link here.",
                         when_empty="Open an incident from a table (Incidents & MTTR, Delivery) or type its id above.")
prepared = state.prepared_for_item(version, "incident", incident_id)
view = incident_view(prepared.evidence.deployments, prepared.outcomes, prepared.chain, incident_id)
if view is None:
    ui.empty(f"No incident with the id {incident_id} that you may see.")
    st.stop()

inc = view.incident
st.subheader(escape_markdown(inc["title"] or "(no title)"))
source = f" · [open in the source]({inc['url']})" if (inc.get("url") or "").startswith(("https://", "http://")) else ""
hours = ((inc["resolved_at"] - inc["started_at"]).total_seconds() / 3600
         if inc.get("resolved_at") and inc.get("started_at") else None)
st.markdown(escape_markdown(
    f"{inc['id']} · team {inc.get('team') or '—'} · service {inc.get('service') or '—'} · "
    f"severity {inc.get('severity') or '—'} · started {fmt_when(inc.get('started_at'))} · "
    + (f"resolved {fmt_when(inc['resolved_at'])} ({hours:,.1f} h)" if hours is not None else "still open")) + source)

st.subheader("Caused by")
cause = inc.get("caused_by_deployment_id")
if not cause:
    st.caption("No deployment linked: the source named none, and no production deployment of the team's or "
               "service's repos finished within the link window before it started.")
    st.stop()
how = {"source": "the source linked it", "inferred": "inferred by the scorecard"}.get(inc.get("cause_how"), "—")
dep = view.deployment or {}
ui.text(f"Deployment {cause} ({dep.get('repo') or 'not in the warehouse'}, finished "
        f"{fmt_when(dep.get('finished_at'))}): {how}.")
if inc.get("cause_rule"):
    st.caption(escape_markdown(inc["cause_rule"]))
st.page_link("app_pages/deployment.py", label=escape_markdown(f"Open deployment {cause}"),
             query_params={"id": cause}, icon=":material/arrow_forward:")
st.subheader("PRs that deployment shipped")
if view.cause_prs.height == 0:
    st.caption("It shipped no merged PR.")
else:
    ui.table(view.cause_prs.with_columns(link_to("pr", "id", "view")), column_config={
        "id": "PR", "title": st.column_config.TextColumn("Title", width="large"), "author": "Author",
        "ai_assisted": st.column_config.CheckboxColumn("AI"),
        "rolled_back": st.column_config.CheckboxColumn("Rolled back"),
        "view": st.column_config.LinkColumn("View", display_text="open")})
