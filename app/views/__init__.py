"""What the pages show, computed without Streamlit: polars frames in, frames, small dataclasses and
Vega-Lite chart specs out. Pages read the filters, call these, and draw; tests call these directly."""
