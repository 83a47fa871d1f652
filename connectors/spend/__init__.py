"""AI spend: FOCUS billing exports, the OpenAI and Anthropic cost APIs, and GitHub Copilot seats."""
