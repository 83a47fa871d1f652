"""Sources of evidence. Each connector is a generator of normalised batches (connectors/contract.py):
it receives its config, secret and cursors, knows nothing of SQL or metrics, and never imports the
warehouse; `pipeline.runner` writes what it yields."""
