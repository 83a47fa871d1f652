"""What the pages show, computed without Streamlit: polars frames in, frames, small dataclasses and
plotly figures out. Pages read the filters, call these, and draw; tests call these directly."""
