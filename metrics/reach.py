"""How far in time each link of DESIGN.md's definitions reaches: the one place the cube's time-scoped
upkeep (reports/derived.py, warehouse/reach.py) takes its windows from.

Two numbers follow from the links, both durations:

- `look_back`: how far before a changed row's instant the numbers of *other* rows can change (a write
  at t can change cube days from t − look_back on);
- `read_back`: how much evidence before the first recomputed day must be read for that day's rows to
  come out exactly as a full build gives them.

Per link (W = rollback_window_days, H = incident_link_hours, R = rework_window_days):

| link | a row at t changes rows | reading rows from day c needs |
| --- | --- | --- |
| revert → rolled-back PR | PRs merged in [t − W, t) | reverts up to W after (ahead: always read) |
| rollback deployment → rolled-back deployments, their PRs | deployments in [t − W, t] and the PRs they shipped (see shipping) | the repo's deployments back to the last one of the same sha (context rows, warehouse/slice.py) |
| shipping (first production deployment after merge) | PRs merged after the repo's last earlier shipping deployment: unbounded, so measured per write (warehouse/reach.py) | PRs merged before c and shipped from c on (context rows: since the repo's last shipper before c) |
| revert → failed deployment | deployments that shipped a PR merged in [t − W, t) | ahead only |
| incident → causing deployment | deployments in [t − H, t]; a source link: that deployment | incidents resolved from c on, from their start − H (the upkeep: from c − H, an earlier one's inferred cause as its start day's kept row holds it); the deployments the source names for incidents resolved or started from c on |
| follow-up fix → reworked PR | PRs merged in [t − R, t) | ahead only |
| adoption cohort (author's AI share over the 28 days ending with the PR's week) | the author's PRs merged earlier in its merge week, when the write changes the author's cohort of that week (measured per write), and ahead | merges up to 28 days + 6 days (the week) before c |
| senior review (reviews at submitted_at; `ai` by the PR's flag) | its own day (the PR's flag: its reviews' days, even before its creation: measured per write) | the reviewed PRs, whenever merged (context rows) |
| shipping named by source (the earliest production deployment naming the PR) | the named PR, and from the PR: the earliest deployment naming it (which can finish before its merge; measured per write) | the deployments before c naming a PR the slice ships: the slice starts at the earliest (warehouse/slice.py) |
| revert lookup (source id, number, sha, then title) | — | the PRs a revert names by id, number or sha, whenever merged (context rows) |
| tickets, spend | their own day | nothing before |
| people (who is senior since when) | all history: a full rebuild | — |

So `look_back` = max(W, H, R) and `read_back` = max(W, H, R, 28 + 7 days). A PR's write reaches back
the look-back only where one of its versions links back (warehouse/reach.py `_pull_request_reach`): it
names what it reverts, it has files (it may be a follow-up fix: the config's fix rule is not known to the
write), or a revert already in the warehouse, merged after it within the look-back, names it (by source id,
number, sha or title: it may take that revert from an earlier PR, or give it back); else it reaches its own
merge (its creation while it is not merged) and earliest review, and, where the write changes its author's cohort of its merge week,
the merge of the first PR its author merged earlier that week (that PR's cohort segment changes). A write of new PRs (most of a sync) so re-reads days, not weeks. The upkeep recomputes the
cube's days from the cut c = (earliest pending reach) on, reading PRs and deployments from c − H (`upkeep_read_back` is 0;
earlier for the deployments the source names as incidents' causes; an incident started before c whose inferred cause lies
before that takes the cause its start day's row kept beside the cube holds, which no write changes without reaching
that day: reports.derived._with_kept_causes), incidents from c − H, and tickets, spend, reviews and files
from c (warehouse/slice.py); the adoption cohorts' earlier weeks are the authors' merge counts summed by
the warehouse, and the context deployments keep the rollback verdict the cube holds for them
(reports/derived.py). Pages reading evidence from a day (`reports.derived.evidence_from`) still read PRs
and deployments from `read_back` before it. A write's cost grows with how far back it reaches, not with
the warehouse.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config.model import Config
from metrics.cohorts import WINDOW_DAYS


@dataclass(frozen=True)
class Reach:
    look_back: dt.timedelta
    read_back: dt.timedelta
    upkeep_read_back: dt.timedelta  # the cube's upkeep: every link it needs before the cut is a context row
    rollback_window: dt.timedelta
    incident_link: dt.timedelta


def reach_of(config: Config) -> Reach:
    rules = config.rules
    window = dt.timedelta(days=rules.rollback_window_days)
    link = dt.timedelta(hours=rules.incident_link_hours)
    rework = dt.timedelta(days=rules.rework_window_days)
    look_back = max(window, link, rework)
    cohort = dt.timedelta(days=WINDOW_DAYS + 7)  # the 28 days that end with the PR's ISO week
    return Reach(look_back=look_back, read_back=max(look_back, cohort), upkeep_read_back=dt.timedelta(0),
                 rollback_window=window, incident_link=link)
