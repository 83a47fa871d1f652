"""The dashboard's server: `streamlit run app/serve.py` (what `make run` starts).

The same app as `streamlit run app/streamlit_app.py` (the router and its pages), served as an `st.App`
whose start-up hook runs app/warmup.py before the server answers: the imports and the warehouse's cube
are paid once when the server starts, not by the first person to open a page. The server takes that
much longer to start (benchmarks/pages.py reports it next to every first visit)."""
import asyncio
from contextlib import asynccontextmanager

import streamlit as st

from app.warmup import warm_up


@asynccontextmanager
async def _warmed(_app):
    yield {"warm_up": await asyncio.to_thread(warm_up)}


app = st.App("streamlit_app.py", lifespan=_warmed)
