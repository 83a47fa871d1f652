"""Governance: the AI inventory and its ghost contributors, workflow stop conditions, roles and the
change history. Pure polars and plain Python (no Streamlit); `changes` alone writes to the warehouse."""
