"""Sources of evidence. Each connector yields normalised records and knows nothing of SQL or metrics."""
