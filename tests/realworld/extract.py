"""Build the real-world test set from public repositories' git history (run by hand, not by the tests).

    python -m tests.realworld.extract /work/.mirror/astral-sh+ruff/repo astral-sh/ruff 2000 ...

Squash merges on the default branch carry the PR's number in the subject (`Title (#123)`), its author,
its whole description and its co-authors' trailers in the message (GitHub writes them there). Each such
commit becomes one `pull_requests` CSV row as `git log` gives it: id, repo, number, title (without the
trailing ` (#n)`), author (the commit author's e-mail), merged_at (the commit time), merge_commit_sha,
body (the message after the subject). Only these fields are kept — no code, no diffs.
Output: tests/realworld/prs.csv.gz (appending a repo replaces its earlier rows).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent
SUBJECT = re.compile(r"^(.*) \(#(\d+)\)\s*$")
FIELDS = "%H%x1f%ae%x1f%cI%x1f%B%x1e"


def squash_merges(git_dir: str, repo: str, limit: int) -> pl.DataFrame:
    out = subprocess.run(["git", "--git-dir", git_dir, "log", "--first-parent", f"--format={FIELDS}", "HEAD"],
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


def main(args: list[str]) -> None:
    path = HERE / "prs.csv.gz"
    frames = []
    if path.exists():
        import gzip

        with gzip.open(path) as handle:
            frames.append(pl.read_csv(handle.read(), infer_schema=False))
    for git_dir, repo, limit in zip(args[0::3], args[1::3], args[2::3]):
        frames = [f.filter(pl.col("repo") != repo) for f in frames]
        frames.append(squash_merges(git_dir, repo, int(limit)).cast({"number": pl.String}))
    data = pl.concat(frames).sort("repo", pl.col("number").cast(pl.Int64))
    import gzip

    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(data.write_csv().encode())
    print(f"{data.height} PRs → {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
