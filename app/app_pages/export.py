"""Export (for analysts): any metric or table with the page filters, previewed, downloaded as CSV or
Parquet through the same code as `scorecard export` (formula-safe, written to the audit log)."""
import shlex

import polars as pl
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.url_state import apply_url, remember
from app.views.chain_views import VIEW_OF_TABLE, link_to
from app.views.export import PREVIEW_ROWS, describe_export, export_label
from reports.export import ExportFilters, encode, record_export

filters = sidebar.current()
version = state.current_version()
ui.header("Export", filters)
st.caption("The sidebar's period, date range and team apply. Metric exports hold the scorecard records "
           "(the metric-output columns of docs/metrics.md); table exports hold the warehouse rows whose counting time "
           "falls in the range, with teams assigned as the pages assign them.")

left, right = st.columns([3, 1])
with left:
    names = state.export_names()
    # Bound to the URL (by its label, as Streamlit writes it), so a link or a reload keeps the selection.
    by_label = {export_label(n): n for n in names}
    apply_url({"export_name": lambda values: by_label.get(values[-1], values[-1]) if values and
               (values[-1] in by_label or values[-1] in names) else names[0]})
    name = st.selectbox("What to export", names, format_func=export_label, key="export_name", bind="query-params")
    remember(("export_name",))
with right:
    fmt = st.segmented_control("Format", ["csv", "parquet"], format_func=str.upper, default="csv", required=True,
                               key="export_format")

if not filters.periods:
    ui.empty("No whole period starts in the selected date range: widen it in the sidebar.")
    st.stop()
frame = state.export_rows(version, name, filters.grain, filters.start, filters.end, filters.team)
st.markdown(describe_export(name, frame))
if frame.height == 0:
    ui.empty("Nothing to export with these filters: widen the date range, pick another team, or load data first "
             "(scorecard demo, scorecard import, or Sync now).")
    st.stop()

warehouse, who = state.warehouse(), ui.actor()
export_filters = ExportFilters(grain=filters.grain, start=filters.start, end=filters.end, team=filters.team)


def build() -> bytes:
    data = encode(frame, fmt)
    record_export(warehouse, name, fmt, export_filters, frame.height, who, "dashboard download")
    return data


st.download_button(
    f"Download {frame.height:,} rows as {fmt.upper()}", data=build, file_name=ui.file_name(name, filters, fmt),
    mime="text/csv" if fmt == "csv" else "application/vnd.apache.parquet", on_click="ignore",
    icon=":material/download:", type="primary", key="export_download",
)
st.caption("Every download is recorded in the audit log (who, what, filters, rows).")
st.subheader("Preview")
preview, preview_config = frame.head(PREVIEW_ROWS), {"period": st.column_config.DateColumn("period", format="YYYY-MM-DD")}
if name in VIEW_OF_TABLE and "id" in preview.columns:  # each row's own view, first
    preview = preview.select(link_to(VIEW_OF_TABLE[name], "id", "view"), pl.all())
    preview_config["view"] = st.column_config.LinkColumn("View", display_text="open")
ui.table(preview, column_config=preview_config)
if frame.height > PREVIEW_ROWS:
    st.caption(f"The first {PREVIEW_ROWS} of {frame.height:,} rows.")

st.subheader("The same export from a terminal")
command = ["scorecard", "export", name, "--format", fmt, "--out", ui.file_name(name, filters, fmt),
           "--grain", filters.grain, "--start", str(filters.start), "--end", str(filters.end)]
if filters.team:
    command += ["--team", filters.team]
st.code(shlex.join(command), language="bash", wrap_lines=True)
