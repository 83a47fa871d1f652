"""What the GitHub connector asks for, as data: the GraphQL query, REST paths, stream names and the
mapping of GitHub's states onto ours. The code in the other modules only fills in the blanks.
"""
from __future__ import annotations

import datetime as dt

SOURCE = "github"
COPILOT_TOOL = "github-copilot"  # the tool name the demo data and CSV imports use for Copilot adoption
USER_AGENT = "ai-impact-scorecard"

# One call per repo and page: up to 100 merged/closed PRs (labels, author, body, commit messages and the
# merge commit's message, where trailers of squash merges land; the first 100 changed files and the
# submitted reviews — pending ones are never asked for) and up to 100 deployments with their
# statuses. Either connection is left out (@include) once its stream is done, so a repo whose PRs span
# ten pages and deployments one page costs ten calls. GitHub allows only CREATED_AT to order
# deployments; PRs are read newest update first and the listing stops at the cursor. A review submitted
# after the merge updates the PR, so the next incremental pass reads it with no call of its own.
REPO_QUERY = """
query ScorecardRepo($owner: String!, $name: String!,
                    $withPrs: Boolean!, $prFirst: Int!, $prAfter: String,
                    $withDeployments: Boolean!, $deployFirst: Int!, $deployAfter: String,
                    $environments: [String!]) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    pullRequests(states: [MERGED, CLOSED], orderBy: {field: UPDATED_AT, direction: DESC},
                 first: $prFirst, after: $prAfter) @include(if: $withPrs) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title body url state createdAt updatedAt mergedAt closedAt headRefName
        author { login }
        labels(first: 50) { nodes { name } }
        mergeCommit { oid message }
        commits(last: 100) { nodes { commit { message } } }
        files(first: 100) { nodes { path } }
        reviews(first: 100, states: [APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED]) {
          nodes { databaseId state submittedAt author { login } }
        }
      }
    }
    deployments(environments: $environments, orderBy: {field: CREATED_AT, direction: DESC},
                first: $deployFirst, after: $deployAfter) @include(if: $withDeployments) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id databaseId environment commitOid createdAt description task payload
        latestStatus { state description createdAt logUrl }
        statuses(first: 20) { nodes { state description createdAt logUrl } }
      }
    }
  }
}
"""

# REST, where GraphQL cannot serve (paths relative to base_url).
ORG_REPOS = "/orgs/{owner}/repos"  # through PyGithub's Organization.get_repos
COPILOT_SEATS = "/orgs/{org}/copilot/billing/seats"
COPILOT_REPORT_28_DAYS = "/orgs/{org}/copilot/metrics/reports/organization-28-day/latest"
COPILOT_REPORT_DAY = "/orgs/{org}/copilot/metrics/reports/organization-1-day"
COPILOT_REPORT_MAX_DAYS = 365  # GitHub keeps a year of daily reports

# Streams in sync_state: one cursor per repo (or org) and stream.
PRS = "pull_requests"
DEPLOYMENTS = "deployments"
WORKFLOW_RUNS = "workflow_runs"
COPILOT_SEATS_STREAM = "copilot_seats"
COPILOT_METRICS_STREAM = "copilot_metrics"

DEPLOYMENT_SOURCES = ("deployments", "workflow_runs", "both", "none")

# Deployment status states (GraphQL DeploymentStatusState, upper case; REST uses lower case). GitHub
# marks a deployment's latest status `inactive` once a newer deployment to its environment succeeds, so
# the outcome of a deployment is its latest status that is not `inactive`.
SUPERSEDED = "inactive"
FINISHED_STATES = ("success", "failure", "error")
UNFINISHED_STATES = ("pending", "queued", "in_progress", "waiting")
# An unfinished deployment or run holds its stream's cursor back (so its outcome is read later) for
# this long after it was created; after that it is taken as abandoned.
PENDING_GRACE = dt.timedelta(hours=24)

# Workflow runs: `status` until completed, then `conclusion` (success, failure, cancelled, ...).
RUN_COMPLETED = "completed"
# Events whose runs' `pull_requests` name PRs that are not merged yet: never "shipped" by that run.
PR_EVENTS = ("pull_request", "pull_request_target")

# GraphQL errors that mean "wait and ask again" (HTTP 200 with `errors`), and how often to ask again.
GRAPHQL_RATE_LIMITED = "RATE_LIMITED"
GRAPHQL_INVALID_CURSOR = "INVALID_CURSOR_ARGUMENTS"  # a saved `after` GitHub no longer accepts
GRAPHQL_RATE_RETRIES = 3
# Below this many GraphQL points left, wait for the reset before the next call instead of running dry.
GRAPHQL_RESERVE_POINTS = 20
