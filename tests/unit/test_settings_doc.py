"""The generated settings table in README.md, and two sanity checks of the settings themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline_common import settings_doc
from hotline_common.settings import DEV_DEMO_PASSWORD, DEV_JWT_SECRET, DEV_PII_KEY, DEV_WEBHOOK_SECRET
from hotline_intake.config import IntakeSettings
from hotline_registry.config import RegistrySettings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting leaks in from the environment the tests run in (both spellings pydantic-settings accepts)."""
    for cls in settings_doc.service_settings().values():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, env in settings_doc.env_names(cls).items():
            monkeypatch.delenv(env, raising=False)
            monkeypatch.delenv(f"{prefix}{name}".upper(), raising=False)
    return monkeypatch


def table_rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].strip("`")] = cells
    return rows


def test_readme_block_is_up_to_date() -> None:
    assert settings_doc.readme_is_current(README), f"run `{settings_doc.REGENERATE}`"
    assert settings_doc.main(["--check", "--readme", str(README)]) == 0


def test_table_lists_every_setting_once() -> None:
    table = settings_doc.settings_table()
    rows = table_rows(table)
    assert len(rows) == len(table.splitlines()) - 2, "a variable appears twice"
    expected = {env for cls in settings_doc.service_settings().values() for env in settings_doc.env_names(cls).values()}
    assert set(rows) == expected
    assert {"JWT_SECRET", "DATABASE_URL", "INTAKE_PORT", "REGISTRY_SEED_DEMO", "ROUTING_INDEX_READY_TIMEOUT",
            "NOTIFY_PUBLIC_BASE_URL"} <= set(rows)
    assert rows["JWT_SECRET"][2] == "all services"
    assert rows["NOTIFY_ATTEMPTS_PER_CHANNEL"][2] == "notify"
    assert rows["INTAKE_PORT"][1] == "`8000`"
    assert rows["REGISTRY_PORT"][1] == "`8001`"
    assert rows["OTEL_EXPORTER_OTLP_ENDPOINT"][1] == ""
    assert rows["NOTIFY_PUBLIC_BASE_URL"][3].startswith("Base of the responder page links")


def test_table_never_prints_secret_defaults() -> None:
    table = settings_doc.settings_table()
    for secret in (DEV_JWT_SECRET, DEV_PII_KEY, DEV_WEBHOOK_SECRET, DEV_DEMO_PASSWORD):
        assert secret not in table
    rows = table_rows(table)
    for env in ("JWT_SECRET", "PII_ENCRYPTION_KEY", "PII_LOOKUP_KEY", "DEMO_WEBHOOK_SECRET", "DEMO_PASSWORD"):
        assert rows[env][1] == settings_doc.SECRET_DEFAULT


def test_only_the_block_is_rewritten(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    before, after = "# Title\n\nintro\n\n", "\n\n## More\n\ntext\n"
    readme.write_text(f"{before}{settings_doc.START}\nstale\n{settings_doc.END}{after}", encoding="utf-8")
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 1
    assert "stale" in readme.read_text(encoding="utf-8")  # --check never writes
    assert settings_doc.main(["--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(before + settings_doc.START) and text.endswith(settings_doc.END + after)
    assert "stale" not in text and "| `JWT_SECRET` |" in text
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 0


def test_missing_markers_are_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no block here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="settings:start"):
        settings_doc.update_readme_text(readme.read_text(encoding="utf-8"))
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 2


def test_production_refuses_the_dev_jwt_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HOTLINE_ENV", "production")
    clean_env.setenv("PII_ENCRYPTION_KEY", "cHJvZC1waWkta2V5LTMyLWJ5dGVzLWxvbmchISEhISE=")
    clean_env.setenv("DEMO_WEBHOOK_SECRET", "prod-webhook-secret")
    clean_env.setenv("PII_LOOKUP_KEY", "prod-lookup-key-from-the-vault")
    with pytest.raises(ValidationError) as refused:
        IntakeSettings()
    message = str(refused.value)
    assert "JWT_SECRET" in message
    assert "PII_ENCRYPTION_KEY" not in message and "DEMO_WEBHOOK_SECRET" not in message
    assert "PII_LOOKUP_KEY" not in message
    # ... and accepts a real one.
    clean_env.setenv("JWT_SECRET", "a-real-production-secret-from-the-vault")
    assert IntakeSettings().env == "production"


def test_local_mode_accepts_the_dev_secrets(clean_env: pytest.MonkeyPatch) -> None:
    settings = IntakeSettings()
    assert settings.env == "local" and settings.local
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET


def test_environment_overrides_are_honoured(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("INTAKE_PORT", "9100")
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "x:1")
    intake = IntakeSettings()
    assert intake.port == 9100
    assert intake.kafka_bootstrap_servers == "x:1"
    # The prefix keeps service settings apart; shared ones reach every service.
    registry = RegistrySettings()
    assert registry.port == 8001
    assert registry.kafka_bootstrap_servers == "x:1"
