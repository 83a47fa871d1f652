"""Attribution and reverts on real squash-merge history nobody on this project wrote, through
`scorecard import pull_requests` + `scorecard export pull_requests` alone, against hand-checked truth
(tests/realworld/truth.py says how it was labelled)."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.realworld import extract
from tests.realworld.truth import AMBIGUOUS, IDENTITIES, MARKERS, REVERTS

DATA = Path(__file__).resolve().parents[1] / "artifacts" / "realworld" / "prs.csv.gz"
CO_AUTHOR = re.compile(r"(?im)^[ \t>*+-]*co-authored-by:.*<([^<>]*)>")


def truth_tools(author: str | None, body: str | None) -> dict[str, set[str]]:
    """family ("author", "co_author", "marker") → the tools the hand-checked tables find in one PR."""
    found: dict[str, set[str]] = {"author": set(), "co_author": set(), "marker": set()}
    if author and author.lower() in IDENTITIES:
        found["author"].add(IDENTITIES[author.lower()])
    for email in CO_AUTHOR.findall(body or ""):
        if email.strip().lower() in IDENTITIES:
            found["co_author"].add(IDENTITIES[email.strip().lower()])
    for line in (body or "").splitlines():
        found["marker"].update(tool for text, tool in MARKERS.items() if text in line)
    return found


def ratio(hit: int, total: int) -> float:
    return hit / total if total else float("nan")


def evaluate(raw: pl.DataFrame, exported: pl.DataFrame) -> dict:
    """Precision and recall of the export's decisions against the truth: overall, per tool, per signal
    family, and for reverts (found, and resolved to the right PR)."""
    out = exported.select("id", "ai_assisted", "ai_tools", "ai_signals", "is_revert", "reverts_pr_id")
    rows = raw.select("id", "repo", "number", "author", "body").join(out, on="id", how="left")
    assert rows["ai_assisted"].null_count() == 0, "every PR imported and exported"
    report: dict = {"prs": rows.height}
    truth, predicted, families, signals, flagged = {}, {}, {}, {}, set()
    for r in rows.iter_rows(named=True):
        fam = truth_tools(r["author"], r["body"])
        truth[r["id"]] = set().union(*fam.values())
        families[r["id"]] = fam
        if r["ai_assisted"] == "true":
            flagged.add(r["id"])
        predicted[r["id"]] = set(json.loads(r["ai_tools"])) if r["id"] in flagged else set()
        signals[r["id"]] = {s.split(":", 1)[0] for s in json.loads(r["ai_signals"])}
    ai_true = {i for i, t in truth.items() if t}
    ai_pred = flagged
    report["ai"] = {"truth": len(ai_true), "predicted": len(ai_pred), "precision": ratio(len(ai_true & ai_pred), len(ai_pred)),
                    "recall": ratio(len(ai_true & ai_pred), len(ai_true))}
    report["tools"] = {}
    for tool in sorted({t for ts in truth.values() for t in ts} | {t for ts in predicted.values() for t in ts}):
        t = {i for i, ts in truth.items() if tool in ts}
        p = {i for i, ts in predicted.items() if tool in ts}
        report["tools"][tool] = {"truth": len(t), "predicted": len(p), "precision": ratio(len(t & p), len(p)),
                                 "recall": ratio(len(t & p), len(t))}
    report["families"] = {}
    for family, signal in (("author", "author"), ("co_author", "trailer"), ("marker", "marker")):
        t = {i for i, f in families.items() if f[family]}
        p = {i for i, s in signals.items() if signal in s}
        # recall: PRs carrying the family's evidence found AI with those tools; precision: PRs where the
        # family's signal fired that the truth calls AI.
        found = {i for i in t if families[i][family] <= predicted[i]}
        report["families"][family] = {"truth": len(t), "fired": len(p), "recall": ratio(len(found), len(t)),
                                      "precision": ratio(len(p & ai_true), len(p))}
    reverts_true = {i for i in REVERTS if i not in AMBIGUOUS}
    reverts_pred = {r["id"] for r in rows.iter_rows(named=True) if r["is_revert"] == "true"} - AMBIGUOUS
    numbers = {(r["repo"], int(r["number"])) for r in rows.iter_rows(named=True)}
    repo_of = dict(zip(rows["id"], rows["repo"]))
    resolved = dict(zip(rows["id"], rows["reverts_pr_id"]))
    targets = {i: f"{repo_of[i]}#{n}" for i, n in REVERTS.items() if i in reverts_true and (repo_of[i], n) in numbers}
    right = {i for i, target in targets.items() if resolved[i] == target}
    wrong = {i: resolved[i] for i in targets if resolved[i] not in (None, targets[i])}
    wrong.update({i: resolved[i] for i in reverts_pred - reverts_true if resolved[i]})
    report["reverts"] = {
        "truth": len(reverts_true), "predicted": len(reverts_pred),
        "precision": ratio(len(reverts_true & reverts_pred), len(reverts_pred)),
        "recall": ratio(len(reverts_true & reverts_pred), len(reverts_true)),
        "targets_in_set": len(targets), "resolved": ratio(len(right), len(targets)), "wrong": wrong,
        "missed": sorted(reverts_true - reverts_pred), "false": sorted(reverts_pred - reverts_true),
        "unresolved": sorted(set(targets) - right),
    }
    return report


def load_raw() -> pl.DataFrame:
    if not DATA.exists():
        missing = extract.missing_sources()
        if missing:
            pytest.skip("the real-world set is read from public repositories' git history, not committed: "
                        f"fetch {', '.join(missing)} into {extract.MIRRORS} (or set SCORECARD_REALWORLD_MIRRORS)")
        extract.build(DATA)
    with gzip.open(DATA) as handle:
        return pl.read_csv(handle.read(), infer_schema=False)


def import_and_export(tmp_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    raw = load_raw()
    source = tmp_path / "prs.csv"
    raw.write_csv(source)
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n')
    runner = CliRunner()
    result = runner.invoke(app, ["import", "pull_requests", str(source), "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.csv"
    result = runner.invoke(app, ["export", "pull_requests", "--out", str(out), "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return raw, pl.read_csv(out, infer_schema=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    return evaluate(*import_and_export(tmp_path_factory.mktemp("realworld")))


def test_the_set_is_real_and_large_enough(report):
    assert report["prs"] == 6487
    assert report["ai"]["truth"] >= 300  # PRs carrying a known tool's identity or marker
    assert report["reverts"]["truth"] >= 45


def test_attribution_precision_and_recall(report):
    ai = report["ai"]
    assert ai["precision"] >= 0.99, ai
    assert ai["recall"] >= 0.98, ai


def test_attribution_per_tool_and_signal_family(report):
    for tool, numbers in report["tools"].items():
        assert numbers["precision"] >= 0.99 and numbers["recall"] >= 0.98, (tool, numbers)
    for family, numbers in report["families"].items():
        assert numbers["truth"] > 0, family  # each family is present in the set
        assert numbers["precision"] >= 0.99 and numbers["recall"] >= 0.98, (family, numbers)


def test_reverts_found_and_resolved(report):
    reverts = report["reverts"]
    assert reverts["precision"] >= 0.95, reverts
    assert reverts["recall"] >= 0.90, reverts
    assert reverts["resolved"] >= 0.90, reverts
    assert reverts["wrong"] == {}, reverts
