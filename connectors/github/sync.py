"""The GitHub sync as a generator of batches: which repos, then per repo the PR and deployment pages
(one GraphQL call per page, both streams in the same call) and the deploy workflow runs, then Copilot.

Every batch carries the cursors of exactly the rows it holds, so the runner advances a cursor only
after those rows are committed. A repo that fails is reported and the next one runs; a rate-limit wait
longer than allowed stops the sync with a message saying when to run it again.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import re
from collections.abc import Iterator, Mapping

import polars as pl
from github import GithubException

from config.model import Config, GithubConfig
from connectors.contract import Batch, Rejected, Unreadable, WaitTooLong
import connectors.github.mapping as mapping
import connectors.github.settings as settings
from connectors.github.client import GithubClient, describe
from connectors.github.copilot import copilot_batches
from connectors.github.state import Pass, StreamCursor

log = logging.getLogger(__name__)


class GithubSetupError(ValueError):
    """The [github] section cannot work as written; the message names the key."""


class GithubSyncError(RuntimeError):
    """The sync could not start (e.g. the repos could not be listed); the message says why."""


def check_config(cfg: GithubConfig) -> None:
    def bad(key: str, why: str) -> GithubSetupError:
        return GithubSetupError(f"[github] {key}: {why}")

    if not cfg.org and not cfg.repos:
        raise bad("org / repos", "set an org, a list of repos (globs allowed), or both")
    for entry in cfg.repos + cfg.exclude_repos:
        if "/" not in entry and not cfg.org:
            raise bad("repos", f"'{entry}' has no owner: write 'owner/{entry}' or set org")
        owner = entry.split("/", 1)[0] if "/" in entry else cfg.org
        if any(c in owner for c in "*?["):
            raise bad("repos", f"'{entry}': the owner cannot be a glob")
    if not cfg.token_env:
        raise bad("token_env", "name the environment variable that holds the token")
    if not cfg.base_url.startswith(("https://", "http://")):
        raise bad("base_url", f"'{cfg.base_url}' is not a web address (GitHub Enterprise: https://HOST/api/v3)")
    if not 1 <= cfg.page_size <= 100:
        raise bad("page_size", f"must be 1–100 (GitHub's limit), not {cfg.page_size}")
    if cfg.deployments.source not in settings.DEPLOYMENT_SOURCES:
        raise bad("deployments.source", f"must be one of {', '.join(settings.DEPLOYMENT_SOURCES)}, not '{cfg.deployments.source}'")
    for key in ("workflow_pattern", "rollback_pattern"):
        try:
            re.compile(getattr(cfg.deployments, key))
        except re.error as exc:
            raise bad(f"deployments.{key}", f"not a valid regular expression ({exc})") from None


def _invalid_cursor(exc: GithubException) -> bool:
    errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
    return any(isinstance(e, dict) and e.get("type") == settings.GRAPHQL_INVALID_CURSOR for e in errors or [])


def stream_key(stream: str, name: str) -> str:
    return f"{stream}:{name.lower()}"


def resolve_repos(client: GithubClient, cfg: GithubConfig) -> list[str]:
    """Named repos as given; globs (and a bare org) matched against the owner's repo list."""
    qualify = lambda p: p if "/" in p else f"{cfg.org}/{p}"  # noqa: E731
    patterns = [qualify(p) for p in cfg.repos] or [f"{cfg.org}/*"]
    excluded = [qualify(p).lower() for p in cfg.exclude_repos]
    is_glob = lambda p: any(c in p for c in "*?[")  # noqa: E731
    found = {p.lower(): p for p in patterns if not is_glob(p)}
    globs = [p.lower() for p in patterns if is_glob(p)]
    for owner in sorted({g.split("/", 1)[0] for g in globs}):
        for full_name, fork, archived in client.owner_repos(owner):
            if (fork and not cfg.include_forks) or (archived and not cfg.include_archived):
                continue
            if any(fnmatch.fnmatchcase(full_name.lower(), g) for g in globs):
                found.setdefault(full_name.lower(), full_name)
    return sorted((name for key, name in found.items() if not any(fnmatch.fnmatchcase(key, e) for e in excluded)),
                  key=str.lower)


class GithubSync:
    """One run: `batches()` is what the runner drains; `cursors` are those the last runs saved."""

    def __init__(self, config: Config, client: GithubClient, cursors: Mapping[str, str | None], *, full: bool,
                 now: dt.datetime, stats: dict[str, int]):
        self.cursors = cursors
        self.config = config
        self.cfg: GithubConfig = config.github
        self.client = client
        self.full = full
        self.now = now
        self.stats = stats
        self.since = dt.datetime.combine(self.cfg.since, dt.time(), dt.timezone.utc) if self.cfg.since else None
        self.rollback = re.compile(self.cfg.deployments.rollback_pattern)
        self.workflow = re.compile(self.cfg.deployments.workflow_pattern)
        self.counts = {"prs": 0, "deployments": 0}

    def cursor(self, key: str) -> StreamCursor:
        return StreamCursor.load(self.raw_cursor(key))

    def raw_cursor(self, key: str) -> str | None:
        return self.cursors.get(key)

    def batches(self) -> Iterator[Batch]:
        try:
            yield from self._batches()
        finally:
            self.stats.update(self.client.meter.stats())

    def _batches(self) -> Iterator[Batch]:
        check_config(self.cfg)
        warnings = self._environment_warnings()
        try:
            repos = resolve_repos(self.client, self.cfg)
        except Exception as exc:
            raise GithubSyncError(f"listing the repos failed: {describe(exc)}") from None
        if not repos:
            warnings.append("no repos matched [github] org / repos (forks and exclusions left out)")
        yield Batch(warnings=warnings, progress_done=0, progress_total=len(repos),
                    progress_message=f"GitHub: {len(repos)} repos to sync")
        for index, repo in enumerate(repos, 1):
            try:
                for batch in self._repo(repo):
                    self.stats.update(self.client.meter.stats())
                    yield self._with_progress(batch, index - 1, len(repos), f"{repo} ({index} of {len(repos)})")
            except WaitTooLong as exc:
                yield Batch(warnings=[f"{exc}. Stopped at {repo} ({index} of {len(repos)} repos); "
                                      "the next sync continues from there"])
                return
            except Exception as exc:  # one repo failing never stops the others
                if isinstance(exc, GithubException) and exc.status == 401:
                    raise GithubSyncError(describe(exc)) from None  # a rejected token fails every repo
                message = f"{repo}: {describe(exc)}"
                log.info("GitHub sync of %s", message)
                yield Batch(warnings=[message])
            yield self._with_progress(Batch(), index, len(repos), f"{index} of {len(repos)} repos done")
        org = self.cfg.copilot.org or self.cfg.org
        if self.cfg.copilot.enabled and org:
            try:
                yield from copilot_batches(self.client, self.cfg.copilot, org, self.raw_cursor, full=self.full,
                                           today=self.now.date(), since=self.cfg.since)
            except WaitTooLong as exc:
                yield Batch(warnings=[f"Copilot adoption for {org}: {exc}"])

    def _environment_warnings(self) -> list[str]:
        production = {e.lower() for e in self.config.rules.production_environments}
        d = self.cfg.deployments
        if d.source in ("workflow_runs", "both") and d.workflow_environment.lower() not in production:
            return [f"[github.deployments] workflow_environment '{d.workflow_environment}' is not in [rules] "
                    f"production_environments, so the metrics will not count those runs"]
        return []

    def _with_progress(self, batch: Batch, done: int, total: int, where: str) -> Batch:
        """Repo n of N, items so far, calls made and the rate limit left: the progress bar's line."""
        meter = self.client.meter
        left = f" · {meter.rate_remaining:,} GraphQL points left" if meter.rate_remaining is not None else ""
        batch.progress_done, batch.progress_total = done, total
        batch.progress_message = (f"GitHub {where}: {self.counts['prs']:,} PRs, {self.counts['deployments']:,} "
                                  f"deployments · {meter.calls:,} calls{left}")
        return batch

    # One repo -----------------------------------------------------------------------------------
    def _repo(self, repo: str) -> Iterator[Batch]:
        owner, name = repo.split("/", 1)
        streams: dict[str, tuple[str, Pass, dt.datetime | None]] = {}  # stream → (cursor key, pass, old watermark)
        wanted = [settings.PRS]
        if self.cfg.deployments.source in ("deployments", "both"):
            wanted.append(settings.DEPLOYMENTS)
        for stream in wanted:
            key = stream_key(stream, repo)
            cursor = self.cursor(key)
            streams[stream] = (key, cursor.start(full=self.full, since=self.since), cursor.watermark)
        canonical, restarted = repo, False
        while any(not p.done for _, p, _ in streams.values()):
            prs, deploys = streams[settings.PRS][1], streams.get(settings.DEPLOYMENTS, (None, None, None))[1]
            try:
                data = self.client.graphql(settings.REPO_QUERY, {
                    "owner": owner, "name": name, "withPrs": not prs.done, "prFirst": self.cfg.page_size,
                    "prAfter": prs.after, "withDeployments": deploys is not None and not deploys.done,
                    "deployFirst": self.cfg.page_size, "deployAfter": deploys.after if deploys else None,
                    "environments": list(self.cfg.deployments.environments) or None,
                })
            except GithubException as exc:
                if restarted or not _invalid_cursor(exc):
                    raise
                # A saved page position GitHub no longer accepts (e.g. the environments filter changed):
                # list again from the top, down to the same floor; re-read rows upsert unchanged.
                restarted = True
                for _, current, _ in streams.values():
                    current.after = None
                continue
            repository = data.get("repository")
            if not repository:
                raise GithubSyncError("not found, or the token cannot read it")
            canonical = repository.get("nameWithOwner") or repo
            batch = Batch()
            if not prs.done:
                self._pr_page(batch, canonical, repository.get("pullRequests") or {}, *streams[settings.PRS])
            if deploys is not None and not deploys.done:
                self._deployment_page(batch, canonical, repository.get("deployments") or {},
                                      *streams[settings.DEPLOYMENTS])
            yield batch
        if self.cfg.deployments.source in ("workflow_runs", "both"):
            yield from self._runs(canonical, stream_key(settings.WORKFLOW_RUNS, repo))

    def _page(self, current: Pass, connection: dict, sort_key: str) -> list[dict]:
        """The nodes of a page down to the pass's floor; marks the pass done at the floor or the end."""
        kept = []
        for node in [n for n in (connection.get("nodes") or []) if isinstance(n, dict)]:
            at = mapping.sort_time(node, sort_key)
            if at is not None and current.floor is not None and at < current.floor:
                current.done = True  # newest first: the rest is older still
                break
            current.see(at)
            kept.append(node)
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            current.done = True
        current.after = info.get("endCursor")
        return kept

    def _finish(self, batch: Batch, key: str, current: Pass, watermark: dt.datetime | None) -> None:
        batch.cursors[key] = StreamCursor.finished(current) if current.done else StreamCursor.checkpoint(watermark, current)

    def _pr_page(self, batch: Batch, repo: str, connection: dict, key: str, current: Pass,
                 watermark: dt.datetime | None) -> None:
        rows, files, reviews = [], [], []
        for node in self._page(current, connection, "updatedAt"):
            try:
                mapping.timestamp(node, "updatedAt", required=True)
                row = mapping.pr_row(repo, node)
                pr_files, pr_reviews = mapping.pr_files_and_reviews(repo, node)
            except Unreadable as exc:
                batch.rejected.append(Rejected(settings.PRS, mapping.pr_rejected_id(repo, node), str(exc)))
                continue
            rows.append(row)
            files += pr_files
            reviews += pr_reviews
        if rows:
            batch.frames["pull_requests"] = mapping.pr_frame(rows, self.config.ai_detection)
        if files:
            batch.frames["pull_request_files"] = pl.DataFrame(files, schema=mapping.FILE_SCHEMA)
        if reviews:
            batch.frames["reviews"] = pl.DataFrame(reviews, schema=mapping.REVIEW_SCHEMA)
        self.counts["prs"] += len(rows)
        self._finish(batch, key, current, watermark)

    def _deployment_page(self, batch: Batch, repo: str, connection: dict, key: str, current: Pass,
                         watermark: dt.datetime | None) -> None:
        out = mapping.Deployments()
        for node in self._page(current, connection, "createdAt"):
            try:
                mapping.add_deployment(out, repo, node, self.cfg.deployments, self.rollback, self.client.html_base)
            except Unreadable as exc:
                ident = node.get("databaseId") or node.get("id", "?")
                batch.rejected.append(Rejected(settings.DEPLOYMENTS, f"{settings.SOURCE}:{repo}/deployments/{ident}", str(exc)))
        self._hold_unfinished(current, out.unfinished)
        batch.frames.update(out.frames())
        self.counts["deployments"] += len(out.rows)
        self._finish(batch, key, current, watermark)

    def _hold_unfinished(self, current: Pass, created: list[dt.datetime]) -> None:
        for at in created:
            if at >= self.now - settings.PENDING_GRACE:
                current.hold(at)

    def _runs(self, repo: str, key: str) -> Iterator[Batch]:
        cursor = self.cursor(key)
        current = cursor.start(full=self.full, since=self.since)
        out, batch = mapping.Deployments(), Batch()
        branches = set(self.cfg.deployments.workflow_branches)
        for run in self.client.workflow_runs(repo):
            created = run.created_at
            if current.floor is not None and created is not None and created < current.floor:
                break
            current.see(created)
            if not self.workflow.search(run.name or "") or (branches and run.head_branch not in branches):
                continue
            try:
                mapping.add_run(out, repo, run, self.cfg.deployments, self.rollback)
            except Unreadable as exc:
                batch.rejected.append(Rejected(settings.WORKFLOW_RUNS, f"{settings.SOURCE}:{repo}/actions/runs/{run.id}", str(exc)))
            if len(out.rows) >= 500:  # keep batches small; the cursor waits for the last one
                batch.frames.update(out.frames())
                self.counts["deployments"] += len(out.rows)
                self._hold_unfinished(current, out.unfinished)
                yield batch
                out, batch = mapping.Deployments(), Batch()
        self._hold_unfinished(current, out.unfinished)
        batch.frames.update(out.frames())
        self.counts["deployments"] += len(out.rows)
        current.done = True
        batch.cursors[key] = StreamCursor.finished(current)
        yield batch

