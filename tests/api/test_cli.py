from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from api.settings import get_settings
from tests.conftest import migrate


def test_create_admin_then_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    monkeypatch.setenv("PEERLEND_DATABASE_URL", url)
    monkeypatch.setenv("PEERLEND_MAILBOX_DIR", str(tmp_path / "mailbox"))
    monkeypatch.setenv("PEERLEND_ADMIN_PASSWORD", "operations desk lantern")
    get_settings.cache_clear()
    try:
        assert main(["create-admin", "--username", "ops", "--email", "ops@example.com"]) == 0
        assert "created admin ops" in capsys.readouterr().out
        assert main(["create-admin", "--username", "ops", "--email", "ops2@example.com"]) == 2
        assert "already registered" in capsys.readouterr().err
        monkeypatch.setenv("PEERLEND_ADMIN_PASSWORD", "password")
        assert main(["create-admin", "--username", "ops2", "--email", "ops2@example.com"]) == 2
    finally:
        get_settings.cache_clear()
