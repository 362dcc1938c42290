"""Schema comes only from migrations, matches the models; configuration refuses unsafe starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playhouse.schema_diff import diff_models

import config
from app import ConfigurationError, create_app
from app.db import db
from app.migrate import pending_migrations, upgrade
from app.models import ALL_MODELS
from tests.conftest import BACKEND, make_config

ALL_MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "app" / "migrations").glob("[0-9]*.py")
)


def test_migrated_schema_matches_the_models(app) -> None:
    with db.connection_context():
        diff = diff_models(db.obj, ALL_MODELS)
    assert not diff, str(diff)


@pytest.mark.skipif(BACKEND != "sqlite", reason="a fresh file database is SQLite-only")
def test_fresh_database_has_no_tables_until_upgrade_and_serving_refuses_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    cfg = make_config(url, tmp_path / "instance")
    app = create_app(cfg)  # importing models and building the app creates nothing
    with app.app_context(), db.connection_context():
        assert db.get_tables() == []
        assert pending_migrations() == ALL_MIGRATIONS and ALL_MIGRATIONS[0] == "0001_initial"
    with pytest.raises(ConfigurationError, match="pending: 0001_initial"):
        create_app(cfg, check_schema=True)
    with app.app_context(), db.connection_context():
        assert upgrade() == ALL_MIGRATIONS
        assert upgrade() == []
    create_app(cfg, check_schema=True)


def test_flask_db_upgrade_command(tmp_path: Path) -> None:
    cfg = make_config(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "instance")
    app = create_app(cfg)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "0001_initial" in result.output
    result = app.test_cli_runner().invoke(args=["db", "status"])
    assert result.exit_code == 0 and "[x] 0001_initial" in result.output


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app) -> None:
    if BACKEND != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_secrets_are_generated_once_into_instance(tmp_path: Path) -> None:
    cfg = make_config(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "inst")
    a = create_app(cfg)
    b = create_app(cfg)
    stored = json.loads((tmp_path / "inst" / "secrets.json").read_text())
    assert a.config["JWT_SECRET_KEY"] == b.config["JWT_SECRET_KEY"] == stored["JWT_SECRET_KEY"]
    assert len(stored["JWT_SECRET_KEY"]) >= 48
    assert (tmp_path / "inst" / "secrets.json").stat().st_mode & 0o077 == 0


WECHATPAY = {
    "WECHATPAY_MCHID": "1900000109",
    "WECHATPAY_NOTIFY_URL": "https://shop.example/api/v1/payments/wechatpay/notify",
    "WECHATPAY_APIV3_KEY": "k" * 32,
    "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0114232134912410000000000000",
}


def _production(**attrs) -> type:  # type: ignore[no-untyped-def]
    base = {
        "SECRET_KEY": "k" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "WECHAT_DEV_LOGIN": False,
        "DATABASE_URL": "sqlite:////tmp/prod-check.db",
    }
    return type("Prod", (config.ProductionConfig,), {**base, **attrs})


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"SECRET_KEY": None}, "must come from the environment"),
        ({"JWT_SECRET_KEY": "dev"}, "development default"),
        ({"WECHAT_DEV_LOGIN": True}, "development login provider"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
        ({**WECHATPAY, "WECHATPAY_NOTIFY_URL": "http://shop.example/notify"}, "https://"),
        ({**WECHATPAY, "WECHATPAY_APIV3_KEY": "short"}, "32-byte APIv3 key"),
        ({**WECHATPAY, "WECHATPAY_PUBLIC_KEY_ID": ""}, "PUB_KEY_ID"),
    ],
)
def test_production_refuses_development_defaults(tmp_path: Path, attrs: dict, reason: str) -> None:
    cfg = _production(INSTANCE_PATH=str(tmp_path), **attrs)
    with pytest.raises(ConfigurationError, match=reason):
        create_app(cfg)


@pytest.mark.parametrize("wechatpay", [{}, WECHATPAY])
def test_production_starts_with_real_settings(tmp_path: Path, wechatpay: dict) -> None:
    cfg = _production(
        INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}", **wechatpay
    )
    app = create_app(cfg)
    assert app.config["JWT_SECRET_KEY"] == "j" * 40
    assert app.extensions["suanpan.wechat"].__class__.__name__ == "_NoWeChat"


def test_config_picked_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUANPAN_ENV", "production")
    assert config.config_from_env() is config.ProductionConfig
    monkeypatch.setenv("SUANPAN_ENV", "staging")
    with pytest.raises(RuntimeError, match="SUANPAN_ENV"):
        config.config_from_env()


def test_unknown_database_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not supported"):
        create_app(make_config("mysql://x/y", tmp_path))
