"""One deployment (`?id=…`, linked from the Delivery and PR views): repo, environment, sha, when it
finished and its status, the PRs it shipped (each linking to its PR view), whether it is a rollback and
of what, and whether it failed — rolled back, a PR of it reverted, an incident caused — by what."""
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.chain_views import deployment_view, link_to
from app.views.pr import fmt_when
from reports.format import escape_markdown

filters = sidebar.current()
version = state.current_version()
ui.header("Deployment", filters, what="One deployment, what it shipped and whether it failed")

deployment_id = ui.item_id("Deployment id", placeholder="e.g. github:acme/api/123",
                           help="The Delivery tables and the PR view link here.",
                           when_empty="Open a deployment from a table (Delivery, a PR's view) or type its id above.")
prepared = state.prepared_for_item(version, "deployment", deployment_id)
view = deployment_view(prepared.evidence.deployments, prepared.outcomes, prepared.chain,
                       prepared.config.rules.production_environments, deployment_id)
if view is None:
    ui.empty(f"No deployment with the id {deployment_id} that you may see.")
    st.stop()

dep = view.deployment
st.subheader(escape_markdown(f"{dep['repo']} → {dep['environment']}"))
source = f" · [open in the source]({dep['url']})" if (dep.get("url") or "").startswith(("https://", "http://")) else ""
st.markdown(escape_markdown(f"{dep['id']} · sha {dep.get('sha') or '—'} · finished {fmt_when(dep.get('finished_at'))} · "
                            f"status {dep.get('status') or '—'} · team {dep.get('team') or '—'}") + source)
if not view.production:
    st.caption("Not a successful production deployment: the scorecard does not count it.")

left, right = st.columns(2)
with left, st.container(border=True, height="stretch"):
    if view.rollback_of:
        how = "the source flags it" if view.rollback_rule == "flag" else "it redeployed an earlier sha"
        st.markdown("**A rollback**")
        ui.text(f"It rolls back {', '.join(view.rollback_of)} ({how}).")
        for target in view.rollback_of:
            st.page_link("app_pages/deployment.py", label=escape_markdown(f"Open {target}"),
                         query_params={"id": target}, icon=":material/arrow_forward:")
    elif view.failed is None:
        st.markdown("**Not counted**")
        ui.text("Only successful production deployments that are not rollbacks can fail.")
    elif view.failed["failed"]:
        st.markdown(f"**Failed: {view.failed['failed_how']}**")
        ui.text(view.failed["failed_reason"])
        by = view.failed["failed_by"]
        target = {"rolled back": "deployment", "reverted PR": "pr", "caused incident": "incident"}[view.failed["failed_how"]]
        st.page_link(f"app_pages/{target}.py", label=escape_markdown(f"Open {by}"), query_params={"id": by},
                     icon=":material/arrow_forward:")
    else:
        st.markdown("**Did not fail**")
        ui.text("No rollback, no reverted PR, no incident linked to it.")
with right, st.container(border=True, height="stretch"):
    st.markdown(f"**Incidents it caused: {view.incidents.height}**")
    if view.incidents.height:
        ui.table(view.incidents.with_columns(link_to("incident", "id", "view")), column_config={
            "id": "Incident", "title": "Title",
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
            "cause_how": "Linked by", "view": st.column_config.LinkColumn("View", display_text="open")})

st.subheader("Shipped PRs")
if view.shipped.height == 0:
    st.caption("It shipped no merged PR (none merged since the previous production deployment of its repo).")
else:
    ui.table(view.shipped.with_columns(link_to("pr", "id", "view")), column_config={
        "id": "PR", "title": st.column_config.TextColumn("Title", width="large"), "author": "Author",
        "ai_assisted": st.column_config.CheckboxColumn("AI"),
        "rolled_back": st.column_config.CheckboxColumn("Rolled back"),
        "view": st.column_config.LinkColumn("View", display_text="open")})
