"""The registry of AI coding tools, as data (DESIGN.md "AI-assisted PR").

One entry per tool: the identities it commits or opens pull requests under, the markers it writes into
messages, its agent branch prefixes and labels. Identities are matched *whole* (an exact e-mail, a GitHub
noreply login, a bot login with or without `[bot]`), never as a word inside a name or a domain: many people
have `@openai.com` or `@anthropic.com` addresses, and some are called Devin. The classifier
(`connectors.common.ai_detection`) reads only this data and `[ai_detection]`, which adds an organisation's
own agents (`agents_from_config`).

Where each string comes from is noted beside it ("seen": in the public history of the repositories named,
Dec 2026; "docs": the vendor's documentation). Strings marked *unverified* come from vendor pages that
describe them but were not seen in a commit; they are whole identities or distinctive markers, so a wrong
one can only miss, not misfire.
"""
from __future__ import annotations

from dataclasses import dataclass

# Label whole-match, case-insensitive; a label names a tool only where an entry below lists it.
GENERIC_AI_LABELS = ("ai-assisted", "ai-generated")

# Policy trailers that declare AI assistance whatever they name (Linux kernel, Fedora and LLVM use
# `Assisted-by: AGENT:MODEL`; Apache projects `Generated-by:`). When the value names a registry tool, the
# PR is attributed to it as well.
POLICY_TRAILERS = ("Assisted-by", "Generated-by")

# "Generated with GitHub Copilot": a vendor word may stand between the phrase and the tool's name.
VENDOR_PREFIXES = ("GitHub", "OpenAI", "Anthropic", "Anthropic's", "Google", "Google's", "Amazon", "AWS",
                   "Sourcegraph", "Codeium", "Cognition", "All Hands", "Factory")


@dataclass(frozen=True)
class AiTool:
    """One tool. `bots` and `noreply_logins` are GitHub logins compared case-insensitively without a
    trailing `[bot]`; `emails` are whole addresses; `markers` are regular expressions (Rust syntax, no
    look-around) matched case-insensitively anywhere in the PR body or a commit message; `aliases` are the
    names a "Generated with / Made with" phrase or a policy trailer may use for it."""

    name: str
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    bots: tuple[str, ...] = ()
    noreply_logins: tuple[str, ...] = ()
    name_suffixes: tuple[str, ...] = ()  # an author or co-author name ending so, e.g. "Jane (aider)"
    markers: tuple[str, ...] = ()
    branch_prefixes: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


TOOLS: tuple[AiTool, ...] = (
    AiTool(
        "Claude Code",
        aliases=("Claude",),
        # seen (astral-sh/uv, pydantic/pydantic-ai, modelcontextprotocol/python-sdk): "Claude <noreply@anthropic.com>",
        # also model-named: "Claude Opus 4.6 <noreply@anthropic.com>", "Claude Sonnet 4.5 <...>"
        emails=("noreply@anthropic.com",),
        # seen (modelcontextprotocol/python-sdk): 209825114+claude[bot]@users.noreply.github.com (the GitHub Action)
        bots=("claude",),
        markers=(
            r"\bGenerated with \[Claude Code\]",  # seen: the footer "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
            r"(?m)^[ \t]*Claude-Session:[^\n]*",  # docs: Claude Code on the web adds "Claude-Session: https://claude.ai/code/session_…"
            r"claude\.ai/code/session_",  # docs: the same session link in a PR body
        ),
        branch_prefixes=("claude/",),  # seen: claude[bot] and Claude Code on the web push claude/<slug>
        labels=("claude-code-assisted",),  # seen: a label some repositories use for Claude Code PRs
    ),
    AiTool(
        "GitHub Copilot",
        aliases=("Copilot", "Copilot coding agent", "Copilot Autofix"),
        # seen (astral-sh/uv, microsoft/playwright-mcp): the coding agent's commits, 198982749+Copilot@…;
        # seen (pydantic/pydantic): 175728472+Copilot@… (suggestions applied from Copilot review / Autofix);
        # seen (astral-sh/ruff, modelcontextprotocol/python-sdk): 223556219+Copilot@… (Copilot CLI and editors).
        noreply_logins=("Copilot",),
        # docs: REST names the coding agent copilot-swe-agent[bot]; GraphQL names it Copilot.
        bots=("copilot-swe-agent", "Copilot"),
        markers=(r"(?m)^[ \t]*Agent-Logs-Url:[^\n]*",),  # seen: the coding agent's trailer linking its session
        branch_prefixes=("copilot/",),  # seen: the coding agent's branches copilot/fix-…
        labels=("copilot",),
    ),
    AiTool(
        "Cursor",
        aliases=("Cursor Agent",),
        emails=("cursoragent@cursor.com",),  # seen: "Co-authored-by: Cursor Agent <cursoragent@cursor.com>"
        bots=("cursor", "cursor-agent"),  # docs: Bugbot / background agents post as cursor[bot]
        markers=(
            r"(?m)^[ \t]*Made-with:[ \t]*Cursor\b",  # seen: the editor's commit trailer
            r"cursor\.com/agents/bc-",  # docs: background (cloud) agent links
        ),
        branch_prefixes=("cursor/",),  # docs: background agents push cursor/<slug>
    ),
    AiTool(
        "OpenAI Codex",
        aliases=("Codex", "Codex CLI", "ChatGPT Codex"),
        emails=("noreply@openai.com",),  # seen (astral-sh/ruff, astral-sh/uv): "Co-authored-by: Codex <noreply@openai.com>"
        bots=("chatgpt-codex-connector",),  # docs: the Codex cloud GitHub connector
        markers=(r"chatgpt\.com/codex/tasks/",),  # seen: "https://chatgpt.com/codex/tasks/task_e_…" in PR bodies
        branch_prefixes=("codex/",),  # seen: Codex cloud pushes codex/<slug>
        labels=("codex",),
    ),
    AiTool(
        "Devin",
        bots=("devin-ai-integration",),  # docs: Devin opens PRs as devin-ai-integration[bot]
        markers=(r"Link to Devin run:", r"app\.devin\.ai/sessions/"),  # docs: Devin's PR description footer
        branch_prefixes=("devin/",),  # docs: devin/<timestamp>-<slug>
    ),
    AiTool(
        "Jules",
        bots=("google-labs-jules",),  # docs: Jules opens PRs as google-labs-jules[bot]
        markers=(r"PR created automatically by Jules", r"jules\.google\.com/task/"),  # docs: Jules' task signature
    ),
    AiTool(
        "Amazon Q",
        aliases=("Amazon Q Developer",),
        bots=("amazon-q-developer", "amazon-q-developer-agent"),  # docs: the Amazon Q Developer GitHub app (unverified)
    ),
    AiTool("Kiro", bots=("kiro-agent",)),  # docs: Kiro's autonomous agent (unverified)
    AiTool(
        "Gemini",
        aliases=("Gemini CLI", "Gemini Code Assist"),
        # docs: the review app gemini-code-assist[bot] (its suggestions, applied, co-author the commit) and
        # the GitHub Action gemini-cli[bot]; the CLI itself adds no trailer.
        bots=("gemini-code-assist", "gemini-cli"),
    ),
    AiTool(
        "Aider",
        emails=("noreply@aider.chat",),  # docs: "Co-authored-by: aider (<model>) <noreply@aider.chat>"
        name_suffixes=(" (aider)",),  # docs: aider appends " (aider)" to the git author and committer name
    ),
    AiTool(
        "Amp",
        emails=("amp@ampcode.com",),  # docs: "Co-authored-by: Amp <amp@ampcode.com>"
        markers=(r"(?m)^[ \t]*Amp-Thread-ID:[^\n]*", r"ampcode\.com/threads/T-"),  # docs: Amp's thread trailer and link
    ),
    AiTool("OpenCode", emails=("noreply@opencode.ai",), bots=("opencode-agent",)),  # docs: opencode's co-author and GitHub agent
    AiTool("OpenHands", emails=("openhands@all-hands.dev",), bots=("openhands-agent",)),  # docs: OpenHands' git identity (unverified bot)
    AiTool("Windsurf", aliases=("Cascade",), bots=("windsurf-bot",)),  # docs (unverified): Windsurf's review bot
    AiTool("Factory", aliases=("Factory Droid", "Droid"), bots=("factory", "factory-droid")),  # docs: factory[bot], factory-droid[bot]
)


def tool_names(tools: tuple[AiTool, ...] = TOOLS) -> list[str]:
    """The registry's tool names, in registry order (the order segments are listed in)."""
    return [tool.name for tool in tools]
