"""The app factory and configuration."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from marac import create_app
from marac.extensions import db


def test_testing_app_uses_the_given_database(test_database: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": test_database})
    assert app.testing
    with app.app_context():
        assert db.engine.url.render_as_string(hide_password=False) == test_database


def test_tests_must_name_a_database() -> None:
    with pytest.raises(ValueError, match="database"):
        create_app({"TESTING": True})


def test_configuration_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARAC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MARAC_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    monkeypatch.setenv("MARAC_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("MARAC_SESSION_IDLE_MINUTES", "7")
    monkeypatch.setenv("MARAC_PROTECTIVE_MARKING", "OFFICIAL")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 7 * 60
    assert app.config["MARAC_PROTECTIVE_MARKING"] == "OFFICIAL"
    assert app.instance_path == str(tmp_path)


def test_safe_defaults_without_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MARAC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MARAC_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    # SQLite in the instance folder, secure cookies, a 15-minute idle timeout.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marac.sqlite3'}"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 15 * 60
    assert app.config["MARAC_PROTECTIVE_MARKING"] == "OFFICIAL-SENSITIVE"


def test_secret_key_is_generated_once_into_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MARAC_SECRET_KEY", raising=False)
    monkeypatch.setenv("MARAC_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_instance_folder_is_never_committed() -> None:
    from marac.config import PROJECT_ROOT

    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert "instance/" in ignored, "the instance folder (keys, demo database) must be ignored"
