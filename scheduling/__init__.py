"""Syncs that run by themselves: the plan (when each source is due, when its data is stale) and the
scheduler that follows it (`scorecard schedule`)."""
