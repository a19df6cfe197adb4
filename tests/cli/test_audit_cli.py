"""The read-side commands, run as a real subprocess on the shipped dataset: clear answers
for questions the ledger can answer, one-line errors (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('audit')}/ledger.sqlite"
    result = run(url, "load", str(ROOT / "data"))
    assert result.returncode == 0, result.stderr
    yield url


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADELEDGER_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def duty(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(url, "duty", "--importer", "US", "--origin", "CN", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--hs", "9503", "--origin", "XX"),
            "origin: 'XX' is not an ISO 3166 alpha-2 country code",
        ),
        (("--hs", "95A3"), "hs: '95A3' is not an HS code"),
        (("--hs", "9503", "--on", "2025-13-45"), "on: '2025-13-45' is not an ISO 8601 date"),
        (
            ("--hs", "9503", "--known-at", "2025-04-10T10:00"),
            "known_at: '2025-04-10T10:00' has no time zone",
        ),
        (
            ("--hs", "9503", "--recorded-at", "yesterday"),
            "recorded_at: 'yesterday' is not an ISO 8601",
        ),
        (("--hs", "9"), "hs: '9' must have between 2 and 12 digits"),
    ],
)
def test_bad_input_gets_one_line_error_and_no_traceback(
    store_url: str, args: tuple[str, ...], message: str
) -> None:
    result = run(
        store_url, "duty", "--importer", "US", "--origin", "CN", "--on", "2025-04-15", *args
    )

    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_date_before_anything_existed_is_a_clear_zero_with_reasons(store_url: str) -> None:
    result = duty(store_url, "--hs", "9503.00.0090", "--on", "1990-01-01", "--json")

    answer = json.loads(result.stdout)
    assert answer["total_additional_pct"] == 0
    assert answer["applied"] == []
    assert {m["reason"] for m in answer["not_applied"]} == {"not_yet_effective"}


def test_a_product_no_measure_names_gets_the_blanket_measures_only(store_url: str) -> None:
    result = duty(store_url, "--hs", "0101.21", "--on", "2025-04-15", "--json")

    answer = json.loads(result.stdout)
    layers = {m["layer"] for m in answer["applied"]}
    assert answer["total_additional_pct"] == 145
    assert layers == {"us.ieepa.fentanyl.cn", "us.ieepa.reciprocal.cn"}


def test_a_country_with_no_measures_has_no_duty(store_url: str) -> None:
    result = run(store_url, "duty", "--importer", "BR", "--origin", "AR", "--hs", "0101", "--json")

    answer = json.loads(result.stdout)
    assert result.returncode == 0
    assert answer["total_additional_pct"] == 0
    assert answer["applied"] == answer["not_applied"] == []


@pytest.mark.parametrize("command", ["measure", "negotiation", "timeline"])
def test_an_unknown_stream_is_named_in_a_one_line_error(store_url: str, command: str) -> None:
    result = run(store_url, command, "no-such-stream")

    assert result.returncode == 1
    assert "'no-such-stream'" in result.stderr
    assert "Traceback" not in result.stderr


def test_recorded_at_before_the_load_shows_an_empty_ledger(store_url: str) -> None:
    result = duty(
        store_url, "--hs", "9503", "--on", "2025-04-15", "--recorded-at", "2000-01-01", "--json"
    )

    answer = json.loads(result.stdout)
    assert answer["as_of"]["position"] == 0
    assert answer["total_additional_pct"] == 0
    assert answer["applied"] == answer["not_applied"] == []


def test_diff_names_the_events_behind_the_geneva_cut(store_url: str) -> None:
    result = run(
        store_url,
        "diff",
        "--importer",
        "US",
        "--origin",
        "CN",
        "--hs",
        "9503.00.0090",
        "--on",
        "2025-05-13",
        "--on2",
        "2025-05-14",
        "--json",
    )

    answer = json.loads(result.stdout)
    total = next(c for c in answer["changes"] if c["facet"] == "total_additional_pct")
    assert (total["old"], total["new"]) == ("145", "30")
    causes = {e for c in answer["changes"] for e in c["caused_by"]}
    assert any(e.startswith("US-CN-GENEVA") for e in causes)


def test_rebuild_reports_every_event_of_the_log(store_url: str) -> None:
    logged = run(store_url, "events", "--json", "--limit", "100000").stdout.splitlines()

    result = run(store_url, "rebuild")

    assert result.returncode == 0, result.stderr
    assert f"rebuilt the read models from {len(logged)} events" in result.stdout
