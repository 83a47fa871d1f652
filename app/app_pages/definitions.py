"""Definitions: every metric's definition, rendered from the metric registry."""
import streamlit as st

from metrics.registry import METRICS

st.title("Definitions")
for spec in METRICS.values():
    st.subheader(spec.title)
    st.text(spec.description)
    st.text(f"Numerator: {spec.numerator}\nDenominator: {spec.denominator}\nCounted at: {spec.counting_time}\n"
            f"Better when: {spec.better_text}\nInterval: {spec.interval}")
