"""`read_ahead` starts a file's read on a thread of its own (`scorecard import`: while the warehouse is opened); the
next `read_csv` of that file with the same entity, config and `in_key_order`, the file unchanged, takes that read's
outcome — its rows, or its error — instead of reading the file again (connectors.csv.reader)."""
import threading

import pytest

import connectors.csv.reader as reader
from config import Config
from connectors.csv import CsvImportError, read_csv

HEADER = "id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels\n"
P1 = "p1,acme/api,core,1,Add cache,ann,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,aa01,copilot\n"
P2 = "p2,acme/api,core,2,Tidy,bob,2026-03-03T10:00:00Z,,,\n"


@pytest.fixture
def reads(monkeypatch):
    """The threads `_read_csv` ran on, one entry per read of a file."""
    threads: list[str] = []
    real = reader._read_csv

    def counted(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(reader, "_read_csv", counted)
    monkeypatch.setattr(reader, "_read_ahead", {})  # none left over from another test
    return threads


def _file(tmp_path, text: str):
    path = tmp_path / "prs.csv"
    path.write_text(text)
    return path


def test_the_read_started_ahead_is_taken_and_the_file_read_once(tmp_path, reads):
    path, config = _file(tmp_path, HEADER + P1 + P2), Config()
    reader.read_ahead(path, "pull_requests", config)
    parsed = read_csv(path, "pull_requests", config)
    assert reads == ["csv-read-ahead"]
    assert parsed.frames["pull_requests"].get_column("id").to_list() == ["p1", "p2"]
    assert not [t for t in threading.enumerate() if t.name == "csv-read-ahead"]  # ended once taken
    # Taken once: the next read of the file reads it again.
    read_csv(path, "pull_requests", config)
    assert reads == ["csv-read-ahead", "MainThread"]


def test_a_file_changed_since_or_another_config_or_order_is_read_again(tmp_path, reads):
    path, config = _file(tmp_path, HEADER + P1), Config()
    reader.read_ahead(path, "pull_requests", config)
    path.write_text(HEADER + P1 + P2)
    assert read_csv(path, "pull_requests", config).frames["pull_requests"].height == 2
    reader.read_ahead(path, "pull_requests", config)
    assert read_csv(path, "pull_requests", Config()).rows == 2
    reader.read_ahead(path, "pull_requests", config)
    assert read_csv(path, "pull_requests", config, in_key_order=True).rows == 2
    assert reads.count("MainThread") == 3


def test_the_error_of_a_read_ahead_is_raised_by_the_read_that_takes_it(tmp_path, reads):
    path, config = _file(tmp_path, HEADER + P1.replace("2026-03-01T10:00:00Z", "soon")), Config()
    with pytest.raises(CsvImportError) as plain:
        read_csv(path, "pull_requests", config)
    reader.read_ahead(path, "pull_requests", config)
    with pytest.raises(CsvImportError) as ahead:
        read_csv(path, "pull_requests", config)
    assert str(ahead.value) == str(plain.value)
    assert "line 2, column 'created_at': not an ISO 8601 timestamp: 'soon'" in str(ahead.value)
    assert reads == ["MainThread", "csv-read-ahead"]
