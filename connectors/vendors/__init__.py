"""Per-person AI tool usage and spend from the vendors' admin APIs: Claude Code analytics, Cursor, OpenAI
usage (GitHub Copilot's per-user reports live with the GitHub connector)."""
