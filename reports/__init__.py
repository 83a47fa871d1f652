"""What the dashboard, the CLI and the benchmark share without Streamlit: loading the evidence and the
cube, the rows a signed-in user may see, exports, alerts and their webhooks, governance and adoption data,
the digest, formatting, filters and the review window. Nothing here imports Streamlit or `app`."""
