"""`scorecard import ENTITY FILE`: every importable entity is a file `Source` (connectors/contract.py),
`csv:<entity>`, which `pipeline.runner` runs like a sync, but atomically: the file is parsed and checked
whole, then written in one transaction; a bad file raises `CsvImportError` (naming its file, line and
column), the run is recorded as failed and nothing else is written."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from config.model import Config
from connectors.contract import Batch, Extract, Source, never_synced
from connectors.csv.entities import ENTITIES
from connectors.csv.reader import entity_named, read_csv


def _file_batches(entity: str) -> Extract:
    def extract(config: Config, _secret, _cursors: Mapping[str, str | None], *, full: bool = False,
                stats: dict[str, int], path: str | Path, in_key_order: bool = False) -> Iterator[Batch]:
        """The whole file as one batch (`in_key_order`: see `read_csv`)."""
        parsed = read_csv(path, entity, config, in_key_order=in_key_order)
        yield Batch(frames=parsed.frames, warnings=parsed.warnings,
                    detail={"file": str(path), "entity": entity, "rows": parsed.rows})

    return extract


SOURCES = {f"csv:{name}": Source(f"csv:{name}", f"scorecard import {name} FILE", never_synced, _file_batches(name),
                                 atomic=True)
           for name in ENTITIES}


def csv_source(entity: str) -> Source:
    """The file source importing `entity`, or a `CsvImportError` naming the importable ones."""
    return SOURCES[f"csv:{entity_named(entity).name}"]
