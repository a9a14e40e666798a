"""The ``portal`` command: clear errors and non-zero exits on bad input, nothing half-done."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Portal:
    """Runs the ``portal`` command against its own database."""

    database: Path
    env: dict[str, str]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "portal.cli", *args], env=self.env,
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def portal(tmp_path: Path, sqlite_template: Path) -> Portal:
    database = tmp_path / "portal.sqlite3"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite://{database}",
           "PORTAL_SECRET_KEY": "cli-test", "PORTAL_MEDIA_DIR": str(tmp_path / "media")}
    return Portal(database, env)


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


def test_publishing_a_bad_pack_lists_every_problem_and_writes_nothing(
    portal: Portal, tmp_path: Path,
) -> None:
    pack = tmp_path / "bad"
    shutil.copytree(PROJECT_ROOT / "quizzes" / "example", pack)
    (pack / "quiz-basics.yaml").write_text(
        (pack / "quiz-basics.yaml").read_text().replace("scoring: speed", "scoring: slow"))
    (pack / "lessons" / "place.ru.md").unlink()
    result = portal("publish", str(pack))
    assert result.returncode == 1
    assert "refused, nothing was written; 2 problem(s)" in result.stderr
    assert "quiz-basics.yaml:11: scoring" in result.stderr
    assert "lessons[0].body.ru: no Markdown file 'lessons/place.ru.md'" in result.stderr
    assert count(portal.database, "pack") == 0 and count(portal.database, "quiz") == 0


def test_a_dry_run_publishes_nothing_and_a_real_run_publishes_once(portal: Portal) -> None:
    example = str(PROJECT_ROOT / "quizzes" / "example")
    dry = portal("publish", example, "--dry-run")
    assert dry.returncode == 0 and "would publish pack example" in dry.stdout
    assert count(portal.database, "quiz") == 0
    assert portal("publish", example).returncode == 0
    again = portal("publish", example)
    assert "0 new, 0 changed, 3 unchanged" in again.stdout
    assert count(portal.database, "quiz") == 2


def test_publishing_something_that_is_not_a_folder_is_an_error(portal: Portal) -> None:
    result = portal("publish", "/no/such/pack")
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_check_passes_on_a_healthy_ledger_and_names_a_broken_account(portal: Portal) -> None:
    assert portal("demo").returncode == 0
    healthy = portal("check")
    assert healthy.returncode == 0 and "every invariant holds" in healthy.stdout
    with sqlite3.connect(portal.database) as db:
        name = db.execute("SELECT name FROM account WHERE kind = 'person' LIMIT 1").fetchone()[0]
        db.execute("UPDATE account SET balance = balance + 5 WHERE name = ?", (name,))
    broken = portal("check")
    assert broken.returncode == 1
    assert f"({name}): balance differs from the sum of its transfers" in broken.stderr


def test_check_names_a_score_count_that_differs_from_the_scores(portal: Portal) -> None:
    assert portal("demo").returncode == 0
    healthy = portal("check")
    assert healthy.returncode == 0 and "every score count equals a recount" in healthy.stdout
    with sqlite3.connect(portal.database) as db:  # a count changed with no score changing
        season, points, second = db.execute(
            "SELECT season, points, second FROM score_second_count WHERE players > 0 "
            "ORDER BY id LIMIT 1").fetchone()
        db.execute("UPDATE score_second_count SET players = players + 1 WHERE season = ? "
                   "AND points = ? AND second = ?", (season, points, second))
    broken = portal("check")
    assert broken.returncode == 1 and "every invariant holds" in broken.stdout
    assert "leaderboard counts score_second_count: 2 row(s) differ" in broken.stderr
    assert f"stored {season}, {points}, {second}" in broken.stderr
    assert "score_hour_count" not in broken.stderr


@pytest.mark.parametrize("args, message", [
    (["create-user", "not-an-email", "--name", "X", "--role", "admin", "--password",
      "long enough password"], "not a valid e-mail address"),
    (["create-user", "x@example.com", "--name", "X", "--role", "owner", "--password",
      "long enough password"], "roles must be among"),
    (["create-user", "x@example.com", "--name", "X", "--role", "admin", "--password", "short"],
     "at least 10 characters"),
])
def test_create_user_refuses_bad_input(portal: Portal, args: list[str], message: str) -> None:
    result = portal(*args)
    assert result.returncode == 2 and message in result.stderr
    assert count(portal.database, "person") == 0


def test_create_user_twice_is_a_clear_error(portal: Portal) -> None:
    args = ["create-user", "x@example.com", "--name", "Xena", "--role", "admin",
            "--password", "long enough password"]
    assert portal(*args).returncode == 0
    second = portal(*args)
    assert second.returncode == 1 and "already has an account" in second.stderr


@pytest.mark.parametrize("command", [
    ["serve"], ["web"], ["scheduler"], ["migrate"], ["demo"], ["check"], ["jobs"],
    ["run-job", "inactivity-burn"], ["publish", "quizzes"],
    ["create-user", "a@example.com", "--name", "A", "--role", "player", "--password", "x"],
])
def test_a_bad_setting_is_one_clear_error_for_every_command(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "portal.cli", *command], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PORTAL_SECRET_KEY": "cli-test",
                                 "PORTAL_BURN_AFTER_DAYS": "3", "PORTAL_SMTP_PORT": "mail"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("error: PORTAL_BURN_AFTER_DAYS must be between 7 and 90, not 3; "
                             "PORTAL_SMTP_PORT must be a whole number, not 'mail'\n")


def test_run_job_refuses_an_unknown_job_and_a_malformed_date(portal: Portal) -> None:
    unknown = portal("run-job", "burn-everything")
    assert unknown.returncode == 2 and "there is no job 'burn-everything'" in unknown.stderr
    bad_date = portal("run-job", "inactivity-burn", "--now", "31/12/2026")
    assert bad_date.returncode == 2 and "is not a date and time" in bad_date.stderr
    assert count(portal.database, "job_run") == 0


def test_run_job_replays_a_date_once(portal: Portal) -> None:
    assert portal("demo").returncode == 0
    first = portal("run-job", "inactivity-burn", "--now", "2027-06-01T02:00")
    assert first.returncode == 0 and "inactivity-burn for 2027-06-01:" in first.stdout
    burned = int(first.stdout.rsplit(":", 1)[1].split()[0])
    assert burned >= 12
    again = portal("run-job", "inactivity-burn", "--now", "2027-06-01T02:00")
    assert "already done" in again.stdout
    assert portal("check").returncode == 0
    listing = portal("jobs")
    assert "inactivity-burn" in listing.stdout and "burn-warnings" in listing.stdout
