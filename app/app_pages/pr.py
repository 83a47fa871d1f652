"""One pull request (`?id=demo:acme/api#12`, linked from every PR table): title, author, why it counted as
AI-assisted, the deployment that shipped it and its other PRs, and whether and how it was rolled back or
reverted — by what, when — each with a link."""
import polars as pl
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.pr import fmt_when, pr_link, pr_view
from reports.format import escape_markdown

filters = sidebar.current()
version = state.current_version()
ui.header("Pull request", filters, what="One PR and everything the scorecard decided about it")

pr_id = ui.item_id("PR id", placeholder="e.g. github:acme/api#123",
                   help="Every PR table links here; the id is the one the export and the CLI show.",
                   when_empty="Open a PR from a table (Rollbacks, the exports) or type its id above.")
prepared = state.prepared_for_item(version, "pr", pr_id)
view = pr_view(prepared.outcomes, prepared.evidence.deployments, pr_id, state.pr_extra(version, pr_id))
if view is None:
    ui.empty(f"No merged PR with the id {pr_id} that you may see. Ids look like github:owner/repo#123.")
    st.stop()

pr = view.pr
st.subheader(escape_markdown(pr["title"] or "(no title)"))
source = f" · [open in the source]({pr['url']})" if (pr.get("url") or "").startswith(("https://", "http://")) else ""
st.markdown(escape_markdown(f"{pr['repo']} #{pr['number']} · by {pr['author'] or 'unknown'} · team {pr['team']} · "
                            f"merged {fmt_when(pr['merged_at'])}") + source)

left, right = st.columns(2)
with left, st.container(border=True, height="stretch"):
    st.markdown("**Why AI-assisted**" if pr["ai_assisted"] else "**Not AI-assisted**")
    if view.signals:
        for signal in view.signals:
            st.text(f"• {signal}")  # as written in the PR: plain text (Markdown would turn e-mails into links)
    else:
        st.caption("No AI signal fired." if not pr["ai_assisted"] else "Marked AI-assisted by the source.")
    if view.tools:
        ui.text("Tools: " + ", ".join(view.tools))
    if view.mode:
        ui.text(f"Mode: {view.mode}")
with right, st.container(border=True, height="stretch"):
    st.markdown("**Rolled back**" if pr["rolled_back"] else "**Not rolled back**")
    if pr["rolled_back"]:
        by = pr["rolled_back_by"] or "—"
        ui.text(f"By a {pr['rolled_back_how']}: {by}, at {fmt_when(pr['rolled_back_at'])}.")
        if pr["rolled_back_how"] == "revert" and pr["rolled_back_by"]:
            st.page_link("app_pages/pr.py", label=escape_markdown(f"Open the revert {by}"),
                         query_params={"id": by}, icon=":material/arrow_forward:")
    for row in view.reverted_by.iter_rows(named=True):
        ui.text(f"Reverted by {row['id']} ({row['title']}) on {fmt_when(row['merged_at'])}.")
    if view.reverts:
        ui.text(f"This PR reverts {view.reverts['id']} ({view.reverts['title'] or 'not in the warehouse'}).")
        st.page_link("app_pages/pr.py", label=escape_markdown(f"Open {view.reverts['id']}"),
                     query_params={"id": view.reverts["id"]}, icon=":material/arrow_forward:")

st.subheader("Shipped in")
dep = view.deployment
if dep is None:
    st.caption("Not shipped yet: no production deployment of its repository finished after the merge.")
else:
    link = f" · [open]({dep['url']})" if dep.get("url") else ""
    st.markdown(escape_markdown(f"{dep['id']} · {dep.get('environment') or ''} · finished "
                                f"{fmt_when(dep.get('finished_at'))} · {dep.get('how') or ''}") + link)
    st.page_link("app_pages/deployment.py", label=escape_markdown(f"Open deployment {dep['id']}"),
                 query_params={"id": dep["id"]}, icon=":material/arrow_forward:")
    if view.shipped_with.height:
        st.caption(f"With {view.shipped_with.height} other PR{'s' if view.shipped_with.height != 1 else ''}:")
        ui.table(view.shipped_with.with_columns(view=pl.col("id").map_elements(pr_link, return_dtype=pl.String)),
                 column_config={"id": "PR", "title": st.column_config.TextColumn("Title", width="large"),
                                "ai_assisted": st.column_config.CheckboxColumn("AI"),
                                "rolled_back": st.column_config.CheckboxColumn("Rolled back"),
                                "view": st.column_config.LinkColumn("View", display_text="open")})
    else:
        st.caption("It was the only PR in that deployment.")
