"""The synthetic demo organisation."""
