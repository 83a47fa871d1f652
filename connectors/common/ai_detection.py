"""AI attribution of pull requests (DESIGN.md "AI-assisted PR"), vectorised over a frame of PRs.

An explicit value from the source wins; otherwise a PR is AI-assisted when a signal fires. The evidence
read: labels, the author, the head branch, the body and every commit message (the squash or merge
commit's included). Signals come from the registry of AI tools (`connectors.common.ai_tools`) plus
`[ai_detection]`:

- identity (high): the author or a `Co-authored-by:` trailer *is* a tool's identity, matched whole — an
  exact e-mail, a GitHub noreply address by its login, a bot login with or without `[bot]`;
- marker (high): a tool's own trailer or footer, "Generated with / Made with <tool>", a policy trailer;
- label or branch (medium): an AI label (whole, case-insensitive), a head branch with an agent prefix.

Every signal is kept as readable text (`label:…`, `branch:…`, `author:…`, `trailer:…`, `marker:…`,
`explicit:<source>=<value>`), with `ai_tools`, `ai_mode` and `ai_confidence`. The CSV import, the GitHub
connector and the demo call `classify_prs`, so attribution is decided in one place.

The big texts are searched for literals first (Aho-Corasick over the whole column); each trailer or
marker expression then runs only over the texts holding its literal. What those scans return, and the
authors, labels and branches, are short strings decided once per distinct value.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import polars as pl

from config.model import AiDetectionConfig
from connectors.common.ai_tools import GENERIC_AI_LABELS, POLICY_TRAILERS, TOOLS, VENDOR_PREFIXES, AiTool
from connectors.common.normalise import to_json_list

NOREPLY = re.compile(r"^(?:\d+\+)?([^@\s]+)@users\.noreply\.github\.com$", re.IGNORECASE)
ADDRESS = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$")
# A trailer line wherever it stands (quoted, indented or bulleted in a squash body).
CO_AUTHOR_LINE = r"(?im)^[ \t>*+-]*co-authored-by:[ \t]*[^\n]*"
_MODES = {"author": "agent", "trailer": "co_authored", "marker": "co_authored", "label": "labelled", "branch": "labelled"}
_ORDER = ("label", "branch", "author", "trailer", "marker")
LONG = pl.Schema({"_row": pl.UInt32, "_pos": pl.UInt32, "family": pl.String, "signal": pl.String, "tool": pl.String})


@dataclass
class Registry:
    """The registry compiled for matching: identities as lookups, markers as one regular expression."""

    tools: list[str] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    logins: dict[str, str] = field(default_factory=dict)
    name_suffixes: list[tuple[str, str]] = field(default_factory=list)
    labels: dict[str, str | None] = field(default_factory=dict)
    branch_prefixes: list[tuple[str, str]] = field(default_factory=list)
    markers: list[tuple[re.Pattern, str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # a tool's name or alias (lower) → tool
    policy_trailers: tuple[str, ...] = ()
    # Each marker form (a policy trailer, "Generated/Made with <tool>", each tool's own markers) with the
    # literals one of which every match of it contains.
    forms: list[tuple[str, list[str]]] = field(default_factory=list)
    phrase: re.Pattern | None = None
    policy: re.Pattern | None = None

    def login_tool(self, login: str) -> str | None:
        return self.logins.get(_login_key(login))

    def identity(self, value: str | None) -> str | None:
        """The tool whose identity `value` is: an e-mail, `Name <e-mail>`, or a login."""
        if not value or not value.strip():
            return None
        value = value.strip()
        name, email = value, None
        match = ADDRESS.match(value)
        if match:
            name, email = match.group(1), match.group(2).strip()
        elif "@" in value and " " not in value:
            name, email = "", value
        if email:
            tool = self.emails.get(email.lower())
            noreply = NOREPLY.match(email)
            tool = tool or (self.login_tool(noreply.group(1)) if noreply else None)
            if tool:
                return tool
        elif " " not in name:
            tool = self.login_tool(name)
            if tool:
                return tool
        lowered = name.lower()
        return next((tool for suffix, tool in self.name_suffixes if lowered.endswith(suffix)), None)

    def marker_signal(self, text: str) -> tuple[str, str | None]:
        """(the signal, the tool or None) for one match of the marker scan: a policy trailer is a
        `trailer:` signal, the rest `marker:`."""
        text = re.sub(r"^[ \t>*+-]+", "", text.strip())
        policy = self.policy.match(text)
        if policy:
            return f"trailer:{_squash(text)}", self._named(policy.group(1))
        phrase = self.phrase.search(text)
        if phrase:
            return f"marker:{phrase.group(1)} {phrase.group(2)}", self.names[phrase.group(2).lower()]
        for pattern, tool in self.markers:
            if pattern.search(text):
                return f"marker:{_squash(text)}", tool
        return f"marker:{_squash(text)}", None  # pragma: no cover - the scan returns only what a form matched

    def _named(self, value: str) -> str | None:
        words = re.sub(r"[^\w.+ -]+", " ", value).lower()
        for name in sorted(self.names, key=len, reverse=True):
            if re.search(rf"(?:^|[^a-z0-9]){re.escape(name)}(?:[^a-z0-9]|$)", words):
                return self.names[name]
        return None


def _login_key(login: str) -> str:
    return login.strip().lower().removesuffix("[bot]")


def build_registry(config: AiDetectionConfig) -> Registry:
    """The built-in registry extended (or, with `replace_defaults`, replaced) by `[ai_detection]`."""
    tools: list[AiTool] = [] if config.replace_defaults else list(TOOLS)
    for login in config.bot_authors:
        if login.strip():
            tools.append(AiTool(login.strip().removesuffix("[bot]"), bots=(login,)))
    for name, agent in config.agents.items():
        tools.append(AiTool(
            name, emails=agent.emails, bots=agent.bots, branch_prefixes=agent.branch_prefixes, labels=agent.labels,
            markers=tuple(re.escape(m) for m in agent.markers if m.strip()),
        ))
    reg = Registry(policy_trailers=(() if config.replace_defaults else POLICY_TRAILERS) + tuple(config.trailers))
    generic = (() if config.replace_defaults else GENERIC_AI_LABELS) + tuple(config.labels)
    reg.labels.update({label.strip().lower(): None for label in generic if label.strip()})
    for tool in tools:
        if tool.name not in reg.tools:
            reg.tools.append(tool.name)
        reg.emails.update({e.strip().lower(): tool.name for e in tool.emails if e.strip()})
        reg.logins.update({_login_key(b): tool.name for b in (*tool.bots, *tool.noreply_logins) if _login_key(b)})
        reg.name_suffixes += [(s.lower(), tool.name) for s in tool.name_suffixes]
        reg.labels.update({label.strip().lower(): tool.name for label in tool.labels if label.strip()})
        reg.branch_prefixes += [(p.strip().lower(), tool.name) for p in tool.branch_prefixes if p.strip()]
        reg.markers += [(re.compile(m, re.IGNORECASE), tool.name) for m in tool.markers]
        reg.names.update({n.lower(): tool.name for n in tool.names})
    names = _alternation(reg.names)
    vendors = _alternation(VENDOR_PREFIXES)
    # Markdown or punctuation around the name does not hide it (`_Generated with Cursor_`, `[Claude Code](…)`),
    # but the name must be whole: `Generated with protoc-gen-go` or `made with cursors` name no tool.
    phrase = (rf"(?:^|[^a-z0-9])((?:generated|made)(?:[ \t]+with|-with:))[ \t\[(\"'*_`]*(?:(?:{vendors})[ \t]+)?"
              rf"({names})(?:[^a-z0-9-]|$)")
    reg.phrase = re.compile(phrase, re.IGNORECASE)
    policy = _alternation(reg.policy_trailers)
    reg.policy = re.compile(rf"(?:{policy}):[ \t]*(\S.*)", re.IGNORECASE)
    reg.forms = [
        (rf"(?im)^[ \t>*+-]*(?:{policy}):[ \t]*\S[^\n]*", [f"{t.lower()}:" for t in reg.policy_trailers]),
        ("(?i)" + phrase, ["generated", "made"]),
        *(("(?i)" + p.pattern, [_literal(p.pattern).lower()]) for p, _ in reg.markers),
    ]
    reg.forms = [(pattern, words) for pattern, words in reg.forms if words]
    return reg


def _literal(pattern: str) -> str:
    """The longest literal run of a marker pattern (all a marker can be found by, before the regex runs)."""
    runs = re.split(r"\(\?\w+\)|\\b|(?<!\\)\[[^\]]*\]\*?|(?<!\\)[\^$*+?|(){}]", pattern)
    return max((re.sub(r"\\(.)", r"\1", run) for run in runs), key=len)


def _alternation(words) -> str:
    words = sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words) or r"[^\s\S]"


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:200]


def _numbered(frame: pl.DataFrame) -> pl.DataFrame:
    # Reading order within a PR, so signals keep it whatever order the joins return rows in.
    return frame.with_columns(_pos=pl.int_range(pl.len(), dtype=pl.UInt32))


def _decide(values: pl.Series, decide) -> pl.DataFrame:
    """Apply a Python decision to each distinct value once; returns `value, signal, tool` rows that fired."""
    rows = []
    for value in values.drop_nulls().unique().to_list():
        fired = decide(value)
        if fired:
            rows.append({"value": value, "signal": fired[0], "tool": fired[1]})
    return pl.DataFrame(rows, schema={"value": pl.String, "signal": pl.String, "tool": pl.String})


def classify_prs(frame: pl.DataFrame, config: AiDetectionConfig, *, source: str) -> pl.DataFrame:
    """Add `ai_assisted` (bool), `ai_signals` (JSON array text), `ai_tools` (JSON array text of registry
    names), `ai_mode` (`explicit`, `agent`, `co_authored`, `labelled` or null) and `ai_confidence` (`high`,
    `medium` or null) to a frame of PRs.

    Reads `labels` (list of str), `author`, `head_branch`, `body`, `commit_messages` (list of str, or one
    text) and `ai_explicit` (bool or null); absent columns count as empty.
    """
    reg = build_registry(config)
    rows = frame.select(_row=pl.int_range(pl.len(), dtype=pl.UInt32))
    texts = _texts(frame).with_columns(_row=rows["_row"])
    parts = [pl.DataFrame(schema=LONG)]

    if "labels" in frame.columns:
        labels = _numbered(frame.select(_row=rows["_row"], value=pl.col("labels")).explode("value")).with_columns(
            key=pl.col("value").str.strip_chars().str.to_lowercase()
        )
        hits = labels.filter(pl.col("key").is_in(list(reg.labels)))
        parts.append(hits.select(
            "_row", "_pos", family=pl.lit("label"), signal=pl.lit("label:") + pl.col("value").str.strip_chars(),
            tool=pl.col("key").replace_strict(reg.labels, default=None, return_dtype=pl.String),
        ))
    for column, family, decide in (
        ("author", "author", lambda v: (f"author:{v.strip()}", t) if (t := reg.identity(v)) else None),
        ("head_branch", "branch", lambda v: next(
            ((f"branch:{v.strip()}", t) for p, t in reg.branch_prefixes if v.strip().lower().startswith(p)), None)),
    ):
        if column in frame.columns:
            values = _numbered(frame.select(_row=rows["_row"], value=pl.col(column).cast(pl.String)))
            fired = _decide(values["value"], decide)
            parts.append(values.join(fired, on="value", how="inner").select("_row", "_pos", family=pl.lit(family), signal="signal", tool="tool"))

    co_authors = texts.filter(pl.col("text").str.contains_any(["co-authored-by"], ascii_case_insensitive=True)).select(
        "_row", value=pl.col("text").str.extract_all(CO_AUTHOR_LINE)
    ).explode("value").pipe(_numbered).with_columns(
        value=pl.col("value").str.replace(r"^[ \t>*+-]*", "").str.strip_chars()
    )
    fired = _decide(co_authors["value"], lambda v: (
        (f"trailer:{_squash(v)}", t) if (t := reg.identity(v.split(":", 1)[1])) else None
    ))
    parts.append(co_authors.join(fired, on="value", how="inner").select("_row", "_pos", family=pl.lit("trailer"), signal="signal", tool="tool"))

    # One literal pass over every text picks the few that can hold a marker; each form then runs on those.
    every_word = sorted({w for _, words in reg.forms for w in words})
    candidates = texts.filter(pl.col("text").str.contains_any(every_word, ascii_case_insensitive=True))
    found = [
        candidates.filter(pl.col("text").str.contains_any(words, ascii_case_insensitive=True))
        .select("_row", value=pl.col("text").str.extract_all(pattern)).explode("value").drop_nulls("value")
        .with_columns(_form=pl.lit(i, pl.UInt32))
        for i, (pattern, words) in enumerate(reg.forms)
    ]
    markers = pl.concat(found).sort("_row", "_form", maintain_order=True).pipe(_numbered).drop("_form")
    fired = _decide(markers["value"], reg.marker_signal)
    parts.append(markers.join(fired, on="value", how="inner").select(
        "_row", "_pos", family=pl.col("signal").str.extract(r"^(\w+):"), signal="signal", tool="tool",
    ))

    return _assemble(frame, pl.concat(parts, how="vertical_relaxed"), reg, source)


def _texts(frame: pl.DataFrame) -> pl.DataFrame:
    body = pl.col("body").fill_null("") if "body" in frame.columns else pl.lit("")
    if "commit_messages" not in frame.columns:
        messages = pl.lit("")
    elif isinstance(frame.schema["commit_messages"], pl.List):
        messages = pl.col("commit_messages").fill_null([]).list.join("\n")
    else:
        messages = pl.col("commit_messages").fill_null("")
    return frame.with_columns(_text=pl.concat_str([body, messages], separator="\n")).select(text="_text")


def _assemble(frame: pl.DataFrame, fired: pl.DataFrame, reg: Registry, source: str) -> pl.DataFrame:
    rank = {name: i for i, name in enumerate(_ORDER)}
    tool_rank = {name: i for i, name in enumerate(reg.tools)}
    fired = fired.with_columns(
        rank=pl.col("family").replace_strict(rank, return_dtype=pl.Int8),
        tool_rank=pl.col("tool").replace_strict(tool_rank, default=None, return_dtype=pl.Int32),
    )
    per_pr = (
        fired.sort(["_row", "rank", "_pos"])
        .group_by("_row", maintain_order=True)
        .agg(
            signals=pl.col("signal").unique(maintain_order=True),
            tools=pl.col("tool").sort_by("tool_rank").drop_nulls().unique(maintain_order=True),
            agent=(pl.col("family") == "author").any(),
            text=pl.col("family").is_in(["trailer", "marker"]).any(),
        )
    )
    explicit = frame.get_column("ai_explicit") if "ai_explicit" in frame.columns else pl.Series([None] * frame.height, dtype=pl.Boolean)
    # A PR without a signal or an explicit value comes out as every such PR does (not AI-assisted, no
    # signals or tools, no mode or confidence): only the others are worked out, then written over those
    # defaults (most PRs of a large import are the first kind; deciding each of them cost 0.6 CPU-s per 1M).
    picked = per_pr.get_column("_row")
    if explicit.null_count() < len(explicit):
        picked = pl.concat([picked, explicit.is_not_null().arg_true().cast(pl.UInt32)])
    picked = picked.unique().sort()
    out = (
        pl.DataFrame({"_row": picked}).join(per_pr, on="_row", how="left", maintain_order="left")
        .with_columns(explicit=explicit.gather(picked))
    )
    fired_any = pl.col("signals").is_not_null()
    detected_mode = (
        pl.when(pl.col("agent")).then(pl.lit("agent"))
        .when(pl.col("text")).then(pl.lit("co_authored"))
        .when(fired_any).then(pl.lit("labelled"))
    )
    ai = pl.coalesce("explicit", fired_any)
    explicit_signal = pl.format("explicit:{}={}", pl.lit(source), pl.when("explicit").then(pl.lit("true")).otherwise(pl.lit("false")))
    out = out.select(
        ai_assisted=ai,
        ai_signals=pl.concat_list(
            pl.when(pl.col("explicit").is_not_null()).then(pl.concat_list(explicit_signal)).otherwise(pl.lit([], pl.List(pl.String))),
            pl.col("signals").fill_null(pl.lit([], pl.List(pl.String))),
        ),
        ai_tools=pl.when(ai).then(pl.col("tools").fill_null(pl.lit([], pl.List(pl.String)))).otherwise(pl.lit([], pl.List(pl.String))),
        ai_mode=pl.when(pl.col("explicit").is_not_null()).then(pl.lit("explicit")).otherwise(detected_mode),
        ai_confidence=pl.when(pl.col("explicit").is_not_null()).then(pl.lit("high"))
        .when(pl.col("agent") | pl.col("text")).then(pl.lit("high"))
        .when(fired_any).then(pl.lit("medium")),
    ).with_columns(
        ai_signals=to_json_list(pl.col("ai_signals")),
        ai_tools=to_json_list(pl.col("ai_tools")),
    )
    n = frame.height
    defaults = pl.DataFrame({
        "ai_assisted": pl.repeat(False, n, dtype=pl.Boolean, eager=True),
        "ai_signals": pl.repeat("[]", n, dtype=pl.String, eager=True),
        "ai_tools": pl.repeat("[]", n, dtype=pl.String, eager=True),
        "ai_mode": pl.repeat(None, n, dtype=pl.String, eager=True),
        "ai_confidence": pl.repeat(None, n, dtype=pl.String, eager=True),
    })
    if len(picked):
        defaults = defaults.with_columns(
            defaults.get_column(c).scatter(picked, out.get_column(c).cast(defaults.schema[c])) for c in defaults.columns
        )
    return frame.drop([c for c in defaults.columns if c in frame.columns]).hstack(defaults)


def ai_labels(config: AiDetectionConfig) -> set[str]:
    """Every AI label (lower case): the registry's tool labels, the generic ones and `[ai_detection] labels`.
    Incidents read the same list ("AI tooling used in the response")."""
    return set(build_registry(config).labels)


def tools_of(value: str | None) -> list[str]:
    """The `ai_tools` JSON text of one PR as a list (empty for null)."""
    return json.loads(value) if value else []
