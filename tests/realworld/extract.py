"""Build the real-world test set from public repositories' git history (run by hand, not by the tests).

    python -m tests.realworld.extract [OUT.csv.gz]     # default tests/artifacts/realworld/prs.csv.gz

Squash merges on the default branch carry the PR's number in the subject (`Title (#123)`), its author,
its whole description and its co-authors' trailers in the message (GitHub writes them there). Each such
commit becomes one `pull_requests` CSV row as `git log` gives it: id, repo, number, title (without the
trailing ` (#n)`), author (the commit author's e-mail), merged_at (the commit time), merge_commit_sha,
body (the message after the subject). Only these fields are kept — no code, no diffs.
The tests build it on first use (see SOURCES); it is never committed.
"""
from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent
SUBJECT = re.compile(r"^(.*) \(#(\d+)\)\s*$")
FIELDS = "%H%x1f%ae%x1f%cI%x1f%B%x1e"


def squash_merges(git_dir: str, repo: str, limit: int, commit: str = "HEAD") -> pl.DataFrame:
    out = subprocess.run(["git", "--git-dir", git_dir, "log", "--first-parent", f"--format={FIELDS}", commit],
                         capture_output=True, check=True).stdout.decode("utf-8", errors="replace")
    rows = []
    for record in out.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) != 4:
            continue
        sha, email, when, message = parts
        subject, _, body = message.partition("\n")
        match = SUBJECT.match(subject)
        if not match:
            continue
        number = int(match.group(2))
        rows.append({"id": f"{repo}#{number}", "repo": repo, "number": number, "title": match.group(1),
                     "author": email, "merged_at": when, "merge_commit_sha": sha, "body": body.strip("\n")})
        if len(rows) >= limit:
            break
    return pl.DataFrame(rows).unique("id", keep="first", maintain_order=True)


# The set as labelled (tests/realworld/truth.py): each repository's history read from this commit back, the
# latest `limit` squash merges. The repositories' text is not committed (it is theirs): `build` reads it
# from their git history, which the search tool's `fetch` brings to /work/.mirror/<owner>+<name>/repo.
SOURCES = (
    ("astral-sh/ruff", "fca5c7cf2cd2f8338f18b9485f936b8e9f07bd0b", 1500),
    ("astral-sh/uv", "26a9dd4b2125bc271b47855e1fa0c49af3365db5", 1500),
    ("pydantic/pydantic-ai", "4fda38988f2939fa6ea9cdefcf120693e10ef491", 1500),
    ("modelcontextprotocol/python-sdk", "57394b0548d1e2dc2dce8d67d84985769df3b8bb", 1500),
    ("pydantic/pydantic", "2151025aa51263f3016502b00010b78e4481eaa1", 800),
    ("microsoft/playwright-mcp", "7e0457a7cbf88823bf0146d12c46ae12c6818247", 500),
)
MIRRORS = Path(os.environ.get("SCORECARD_REALWORLD_MIRRORS", "/work/.mirror"))


def git_dir(repo: str) -> Path:
    return MIRRORS / repo.replace("/", "+") / "repo"


def missing_sources() -> list[str]:
    """The repositories (or pinned commits) that are not on this machine."""
    missing = []
    for repo, commit, _ in SOURCES:
        found = subprocess.run(["git", "--git-dir", str(git_dir(repo)), "cat-file", "-e", f"{commit}^{{commit}}"],
                               capture_output=True).returncode == 0
        if not found:
            missing.append(f"{repo}@{commit[:12]}")
    return missing


def build(path: Path) -> Path:
    """Write the set to `path` (CSV, gzip) from the pinned commits of SOURCES; returns `path`."""
    frames = [squash_merges(str(git_dir(repo)), repo, limit, commit).cast({"number": pl.String})
              for repo, commit, limit in SOURCES]
    data = pl.concat(frames).sort("repo", pl.col("number").cast(pl.Int64))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=6) as handle:
        handle.write(data.write_csv().encode())
    return path


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "tests" / "artifacts" / "realworld" / "prs.csv.gz")
    print(f"{out} ({out.stat().st_size:,} bytes)")
