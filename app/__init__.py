"""The front doors: the Streamlit dashboard (entry + pages, render only) and the `scorecard` CLI."""
