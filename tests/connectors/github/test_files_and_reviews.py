"""Files and reviews ride in the PR pages' GraphQL calls: no per-PR call, and a review submitted after the
merge arrives with the next incremental sync (it updates the PR)."""
from functools import partial

from pipeline import run_source
from tests.connectors.github.conftest import NOW, config_for_github, github_config
from tests.connectors.github.fake_github import iso, pr, review
from warehouse import read_table

run_github = partial(run_source, source="github")  # run_github(warehouse, config, **test hooks)


def serve(fake, n: int = 1000):
    """`n` merged PRs, each with 4 files and 2 submitted reviews plus one pending (never asked for);
    PR 1 has 130 files, of which GitHub gives the first 100."""
    repo = fake.repo("acme/big")
    repo.prs = [
        pr(i, merged_at=f"2026-02-{1 + i // 60 % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}",
           updated_at=f"2026-03-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}",
           files=[f"src/f{(i + k) % 50}.py" for k in range(130 if i == 1 else 4)],
           reviews=[(10 * i + 1, "alice", "APPROVED", "2026-02-27 10:00"),
                    (10 * i + 2, "copilot-pull-request-reviewer", "COMMENTED", "2026-02-27 11:00"),
                    (10 * i + 3, "bob", "PENDING", None)])
        for i in range(1, n + 1)
    ]
    return repo


def test_files_and_reviews_for_every_pr_at_a_hundredth_of_a_call_each(sqlite_warehouse, fake, waits):
    serve(fake)
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    report = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert report.status == "success", report
    files = read_table(sqlite_warehouse, "pull_request_files")
    reviews = read_table(sqlite_warehouse, "reviews")
    # 999 PRs × 4 files + PR 1's first 100 (the listing's first 100 paths, 50 distinct names): 3,996 + 50.
    assert files["pr_id"].n_unique() == 1000 and files.height == 999 * 4 + 50
    # 2 submitted reviews per PR; the pending one is never read.
    assert reviews.height == 2000 and set(reviews["state"]) == {"APPROVED", "COMMENTED"}
    assert reviews.filter(reviews["id"] == "github:acme/big#7/reviews/71")["reviewer"].to_list() == ["alice"]
    # Still 10 calls for 1,000 PRs (100 per GraphQL page): 0.01 per PR, all in.
    assert fake.calls() == 10 == report.stats["calls"]
    assert fake.calls() / 1000 <= 0.03


def test_a_review_after_the_merge_arrives_with_the_next_sync(sqlite_warehouse, fake, waits):
    repo = serve(fake, n=150)
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    fake.reset_calls()
    # Carol reviews PR 3 a week after it merged: GitHub bumps the PR's updatedAt.
    late = next(p for p in repo.prs if p["number"] == 3)
    late["reviews"]["nodes"].append(review(999, "carol", "CHANGES_REQUESTED", "2026-03-20 09:00"))
    late["updatedAt"] = iso("2026-03-20 09:00")
    rerun = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert rerun.status == "success"
    assert fake.calls() == 1  # the first page holds everything updated since the cursor
    reviews = read_table(sqlite_warehouse, "reviews")
    assert reviews.height == 301
    assert reviews.filter(reviews["reviewer"] == "carol")["pr_id"].to_list() == ["github:acme/big#3"]
