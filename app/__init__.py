"""Suanpan application factory."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Flask
from flask_jwt_extended import JWTManager

from app import instance_secrets
from app.db import db, make_database
from config import BASE_DIR, Config, config_from_env


class ConfigurationError(RuntimeError):
    pass


def create_app(config_class: type[Config] | None = None, *, check_schema: bool = False) -> Flask:
    """Build the app. Serving entry points pass check_schema=True: they refuse a database with
    pending migrations; the `flask` CLI (which applies them) does not check."""
    config_class = config_class or config_from_env()
    problems = config_class.problems()
    if problems:
        raise ConfigurationError(
            f"{config_class.__name__} refuses to start: " + "; ".join(problems)
        )
    app = Flask(__name__, instance_path=config_class.INSTANCE_PATH, static_folder=None)
    app.config.from_object(config_class)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    generated = instance_secrets.load_or_create(app.instance_path)
    for name in instance_secrets.NAMES:
        if not app.config.get(name):
            app.config[name] = os.environ.get(name) or generated[name]
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = dt.timedelta(minutes=app.config["JWT_ACCESS_MINUTES"])
    app.config["JWT_TOKEN_LOCATION"] = ["headers"]
    app.config["JWT_ERROR_MESSAGE_KEY"] = "message"

    database = make_database(app.config["DATABASE_URL"], Path(BASE_DIR), app.config["DB_POOL_SIZE"])
    db.initialize(database)

    _configure_services(app)
    _configure_chain(app)
    _configure_tax(app)
    _configure_jwt(app)
    _configure_wechat(app)
    _register_request_hooks(app)

    from app.api import bp
    from app.api.errors import register_error_handlers

    app.register_blueprint(bp)
    register_error_handlers(app)

    from app import frontend

    frontend.init_app(app)  # the mobile front end at / (miniprogram/dist)

    from app.cli import register_cli

    register_cli(app)

    if check_schema and not app.config.get("SKIP_SCHEMA_CHECK"):
        from app.migrate import pending_migrations

        with db.connection_context():
            pending = pending_migrations()
        if pending:
            raise ConfigurationError(
                "The database schema is not up to date (pending: "
                + ", ".join(pending)
                + "). Run `flask --app app db upgrade` (./scripts/run does this)."
            )
    return app


def _configure_services(app: Flask) -> None:
    from app.services import auth

    auth.settings.password_method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    auth.settings.refresh_days = app.config["REFRESH_TOKEN_DAYS"]
    auth.settings.login_window = app.config["LOGIN_WINDOW_SECONDS"]
    auth.settings.max_failures_account = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    auth.settings.max_failures_ip = app.config["LOGIN_MAX_FAILURES_PER_IP"]


def _configure_chain(app: Flask) -> None:
    """Record every ledger event in the chain; point the keyring at instance/; `flask chain`."""
    from app.chain_cli import register_chain_cli
    from app.events import subscribe
    from app.services import chain
    from app.services.chain_keys import keyring

    chain.settings.origin_prefix = app.config["CHAIN_ORIGIN"]
    keyring.configure(
        Path(app.instance_path) / app.config["CHAIN_KEY_FILE"],
        app.config["CHAIN_KEY_PASSPHRASE"],
        app.config["CHAIN_ORIGIN"],
        app.config["CHAIN_KEY_SCRYPT_N"],
    )
    subscribe(chain.on_ledger_event)
    register_chain_cli(app)


def _configure_tax(app: Flask) -> None:
    """Load the tax rule packs (a broken file refuses to start), check thresholds after each
    posting, `flask tax`."""
    from app.tax import RulePackError, init_app

    try:
        init_app(app)
    except RulePackError as exc:
        raise ConfigurationError(f"Tax rules refused: {exc}") from None


def _configure_jwt(app: Flask) -> None:
    """flask-jwt-extended issues access tokens; `route()` verifies them once per request with
    `app.api.access_token` (same settings and errors as the loaders below, which stay for any
    view that uses flask-jwt-extended's own decorators)."""
    from app.api import access_token
    from app.api.errors import error_response
    from app.errors import Unauthorized
    from app.services.auth import session_active

    jwt = JWTManager(app)
    access_token.configure(app)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        sid = payload.get("sid")
        return sid is None or not session_active(int(sid))

    def _unauthorized(code: str, message: str):  # type: ignore[no-untyped-def]
        return error_response(Unauthorized(message, code=code))

    jwt.unauthorized_loader(
        lambda reason: _unauthorized("missing_token", f"Log in first: {reason}")
    )
    jwt.invalid_token_loader(
        lambda reason: _unauthorized("invalid_token", f"Token is invalid: {reason}")
    )
    jwt.expired_token_loader(
        lambda _h, _p: _unauthorized("token_expired", "Token has expired; refresh it")
    )
    jwt.revoked_token_loader(
        lambda _h, _p: _unauthorized("token_revoked", "This session has been logged out")
    )
    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("invalid_token", "Unknown user"))


def _configure_wechat(app: Flask) -> None:
    from app.wechat import DevWeChatProvider, WeChatClient

    if app.config["WECHAT_APP_ID"]:
        provider = WeChatClient(
            app.config["WECHAT_APP_ID"],
            app.config["WECHAT_APP_SECRET"],
            app.config["WECHAT_API_BASE"],
            app.config["WECHAT_TIMEOUT_SECONDS"],
        )
    elif app.config["WECHAT_DEV_LOGIN"]:
        provider = DevWeChatProvider()
        app.logger.warning("WECHAT_APP_ID is not set: using the %s", DevWeChatProvider.label)
    else:
        provider = None
    app.extensions["suanpan.wechat"] = provider or _NoWeChat()


class _NoWeChat:
    def code2session(self, code: str):  # type: ignore[no-untyped-def]
        from app.errors import Unavailable

        raise Unavailable(
            "WeChat login is not configured on this server", code="wechat_not_configured"
        )


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        if not db.is_closed() and not app.config["DATABASE_URL"].startswith("sqlite:///:memory:"):
            db.close()
