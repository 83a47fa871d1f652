"""Pure metric functions: polars frames in, metric frames out; the registry of metric specs."""
