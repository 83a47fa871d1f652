"""One redaction for every shape of a secret: raw, repr-escaped, URL-encoded, base64 of user:token —
used by the retry helper and by every log record (issue 17, items 13 and 14)."""
from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import pytest

from connectors.common.retry import RetryPolicy, call_with_retries
from connectors.common.secrets import MissingSecret, get_secret, redact, remember

SECRET = "sk-ant-api03-Zz9/+Yy8=Xx7&Ww6"
USER = "bot@example.test"
SHAPES = {
    "raw": SECRET,
    "repr-escaped": repr(SECRET + "\n")[1:-3],
    "URL-encoded": quote(SECRET, safe=""),
    "base64 user:token": base64.b64encode(f"{USER}:{SECRET}".encode()).decode(),
}


@pytest.fixture(autouse=True)
def known_secret():
    remember(SECRET, user=USER)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_is_masked(shape):
    text = f"server said: Authorization: Basic {SHAPES[shape]} was refused"
    assert SHAPES[shape] not in redact(text) and "***" in redact(text)


def test_the_retry_helper_logs_a_5xx_body_that_echoes_the_headers_masked(caplog):
    caplog.set_level(logging.DEBUG)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("HTTP 502: " + " ".join(SHAPES.values()))
        return "ok"

    result = call_with_retries(flaky, policy=RetryPolicy(max_retries=3, sleep=lambda s: None), what="GET /costs",
                               classify=lambda exc: (str(exc), None))
    assert result == "ok" and "retry 2 of 3" in caplog.text
    assert not [name for name, shape in SHAPES.items() if shape in caplog.text]


def test_any_log_record_is_masked_once_the_secret_was_read(caplog, monkeypatch):
    monkeypatch.setenv("SCORECARD_TEST_ANY_KEY", "  another-secret-value \n")
    assert get_secret("SCORECARD_TEST_ANY_KEY") == "another-secret-value"
    caplog.set_level(logging.INFO)
    logging.getLogger("urllib3.connectionpool").info("GET /v1?key=%s", quote("another-secret-value"))
    assert "another-secret-value" not in caplog.text and "***" in caplog.text


@pytest.mark.parametrize("value", ["abc\r\ndef-secret", "abc\tdef-secret", "line1\nline2"])
def test_a_secret_with_control_characters_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("SCORECARD_TEST_BAD_KEY", value)
    with pytest.raises(MissingSecret) as info:
        get_secret("SCORECARD_TEST_BAD_KEY")
    assert "$SCORECARD_TEST_BAD_KEY" in str(info.value)
    assert not any(part in str(info.value) for part in value.split())
