"""Definitions: every metric's definition, rendered from the metric registry (the same specs the
numbers are computed from), and the rules in force."""
import streamlit as st

from app import state
from app.views.definitions import STATUS_RULES, metric_rows, rules_rows
from reports.format import escape_markdown


def pairs(rows: list[tuple[str, str]]) -> None:
    st.table({"what": [escape_markdown(k) for k, _ in rows], "value": [escape_markdown(v) for _, v in rows]},
             border="horizontal", hide_index=True, hide_header=True)


st.title("Definitions")
st.caption("Every number on these pages follows these definitions. They are read from the metric registry and "
           "the configuration in force, so the explanation and the number cannot drift apart.")

specs = metric_rows()
for first in range(0, len(specs), 2):  # two per row; an odd last one on its own
    for column, (spec, rows) in zip(st.columns(2), specs[first:first + 2]):
        with column, st.container(border=True, height="stretch"):
            st.subheader(spec.title)
            st.markdown(escape_markdown(spec.description))
            pairs(rows)

st.subheader("Status colours")
pairs(list(STATUS_RULES))

st.subheader("Rules in force")
pairs(rules_rows(state.config()))
