"""Configuration classes, read from the environment.

`create_app()` picks one by `SUANPAN_ENV` (development | testing | production). Secrets that are
not in the environment are generated on first run into `instance/` (see app/instance_secrets.py);
`ProductionConfig` refuses that convenience and every other development default.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    ENV_NAME = "base"
    INSTANCE_PATH = os.environ.get("SUANPAN_INSTANCE_PATH", str(BASE_DIR / "instance"))
    DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///instance/suanpan.db")
    # Secrets: None means "generate into instance/ on first run" (not allowed in production).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY") or None
    JWT_ACCESS_MINUTES = _env_int("JWT_ACCESS_MINUTES", 15)
    REFRESH_TOKEN_DAYS = _env_int("REFRESH_TOKEN_DAYS", 30)
    # Login throttling: failures allowed within the window, per account and per client IP.
    LOGIN_WINDOW_SECONDS = _env_int("LOGIN_WINDOW_SECONDS", 900)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_IP = _env_int("LOGIN_MAX_FAILURES_PER_IP", 30)
    # WeChat mini-program login (auth.code2Session).
    WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
    WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
    WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
    WECHAT_TIMEOUT_SECONDS = float(os.environ.get("WECHAT_TIMEOUT_SECONDS", "5"))
    # The development login provider stands in for WeChat when no app id is configured.
    WECHAT_DEV_LOGIN = _env_bool("WECHAT_DEV_LOGIN", True)
    INVITE_TTL_HOURS = _env_int("INVITE_TTL_HOURS", 72)
    # Base URL used in invite links; empty means "the URL the request came in on".
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 8)
    # The chain (docs/chain.md): checkpoint origin prefix (origin = <CHAIN_ORIGIN>/<business id>,
    # also the signing key's name), seal interval, the encrypted key file (in instance/), its
    # scrypt cost, and the nightly verify time (HH:MM, Asia/Shanghai).
    CHAIN_ORIGIN = os.environ.get("CHAIN_ORIGIN", "suanpan.local/chain")
    CHAIN_SEAL_SECONDS = float(os.environ.get("CHAIN_SEAL_SECONDS", "2"))
    CHAIN_KEY_FILE = os.environ.get("CHAIN_KEY_FILE", "chain-signing-key.json")
    CHAIN_KEY_SCRYPT_N = _env_int("CHAIN_KEY_SCRYPT_N", 2**15)
    CHAIN_VERIFY_AT = os.environ.get("CHAIN_VERIFY_AT", "03:30")
    # Tax warnings (docs/tax-rules.md): rule pack directory (empty: app/tax/packs), the daily
    # run's cron and its time zone, when a crashed run may be taken over, the notification
    # sweep interval, the post-posting threshold check, and the WeChat subscription-message
    # template (empty: in-app only) with its fields (template key=title|severity|period|date|
    # rule|message).
    TAX_RULES_DIR = os.environ.get("TAX_RULES_DIR", "")
    TAX_DAILY_CRON = os.environ.get("TAX_DAILY_CRON", "0 8 * * *")
    TAX_TIMEZONE = os.environ.get("TAX_TIMEZONE", "Asia/Shanghai")
    TAX_RUN_STALE_MINUTES = _env_int("TAX_RUN_STALE_MINUTES", 120)
    # threads checking businesses side by side in one daily run; empty: 2 on PostgreSQL, 1 on SQLite
    TAX_RUN_WORKERS = _env_int("TAX_RUN_WORKERS", 0) or None
    TAX_NOTIFY_SECONDS = _env_int("TAX_NOTIFY_SECONDS", 300)
    TAX_CHECK_ON_POSTING = _env_bool("TAX_CHECK_ON_POSTING", True)
    TAX_WECHAT_TEMPLATE_ID = os.environ.get("TAX_WECHAT_TEMPLATE_ID", "")
    TAX_WECHAT_TEMPLATE_FIELDS = os.environ.get(
        "TAX_WECHAT_TEMPLATE_FIELDS", "thing1=title,phrase2=severity,date3=date"
    )
    TAX_WECHAT_PAGE = os.environ.get("TAX_WECHAT_PAGE", "pages/index/index")
    TAX_WECHAT_STATE = os.environ.get("TAX_WECHAT_STATE", "formal")
    # Receipts (docs/receipts.md): where photos are stored (empty: instance/receipts), the
    # largest upload, the largest pixel count opened (decompression bombs), the stored long side.
    RECEIPTS_DIR = os.environ.get("RECEIPTS_DIR", "")
    RECEIPT_MAX_BYTES = _env_int("RECEIPT_MAX_BYTES", 15 * 1024 * 1024)
    RECEIPT_MAX_PIXELS = _env_int("RECEIPT_MAX_PIXELS", 50_000_000)
    RECEIPT_MAX_SIDE = _env_int("RECEIPT_MAX_SIDE", 2000)
    # Rule contracts (docs/contracts.md): how often the scheduler runs the engine and retries
    # payments that are due.
    CONTRACTS_TICK_SECONDS = float(os.environ.get("CONTRACTS_TICK_SECONDS", "5"))
    # WeChat Pay API v3 (docs/contracts.md, china-facts §9); empty WECHATPAY_MCHID: not offered.
    # The merchant private key and the platform public key are PEM text or file names in
    # instance/; the private key and the APIv3 key are secrets (environment or instance/ only).
    WECHATPAY_MCHID = os.environ.get("WECHATPAY_MCHID", "")
    WECHATPAY_APPID = os.environ.get("WECHATPAY_APPID", "")
    WECHATPAY_SERIAL_NO = os.environ.get("WECHATPAY_SERIAL_NO", "")
    WECHATPAY_PRIVATE_KEY = os.environ.get("WECHATPAY_PRIVATE_KEY", "wechatpay/apiclient_key.pem")
    WECHATPAY_PUBLIC_KEY = os.environ.get("WECHATPAY_PUBLIC_KEY", "wechatpay/pub_key.pem")
    WECHATPAY_PUBLIC_KEY_ID = os.environ.get("WECHATPAY_PUBLIC_KEY_ID", "")
    WECHATPAY_APIV3_KEY = os.environ.get("WECHATPAY_APIV3_KEY", "")
    WECHATPAY_API_BASE = os.environ.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com")
    WECHATPAY_NOTIFY_URL = os.environ.get("WECHATPAY_NOTIFY_URL", "")
    WECHATPAY_TRANSFER_SCENE_ID = os.environ.get("WECHATPAY_TRANSFER_SCENE_ID", "1005")
    WECHATPAY_TIMEOUT_SECONDS = float(os.environ.get("WECHATPAY_TIMEOUT_SECONDS", "10"))
    TESTING = False

    @classmethod
    def problems(cls) -> list[str]:
        """Reasons this configuration must not start; empty when it may."""
        return []


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    # Cheap password hashing keeps the suite fast; production uses the scrypt default.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


class ProductionConfig(Config):
    ENV_NAME = "production"
    WECHAT_DEV_LOGIN = _env_bool("WECHAT_DEV_LOGIN", False)

    @classmethod
    def problems(cls) -> list[str]:
        found = []
        if not cls.SECRET_KEY or not cls.JWT_SECRET_KEY:
            found.append("SECRET_KEY and JWT_SECRET_KEY must come from the environment")
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = getattr(cls, name) or ""
            if value and (len(value) < 32 or value.lower() in {"dev", "secret", "changeme"}):
                found.append(f"{name} is a development default or shorter than 32 characters")
        if cls.WECHAT_DEV_LOGIN:
            found.append("WECHAT_DEV_LOGIN (the development login provider) is on")
        if cls.DATABASE_URL.startswith("sqlite:///:memory:"):
            found.append("DATABASE_URL points at an in-memory database")
        if cls.WECHATPAY_MCHID:  # WeChat Pay on: it must be able to reach us and be believed
            if not cls.WECHATPAY_NOTIFY_URL.startswith("https://"):
                found.append(
                    "WECHATPAY_NOTIFY_URL must be the public https:// URL of the notify API"
                )
            if len(cls.WECHATPAY_APIV3_KEY.encode()) != 32:
                found.append("WECHATPAY_APIV3_KEY must be the 32-byte APIv3 key")
            if not cls.WECHATPAY_PUBLIC_KEY_ID:
                found.append(
                    "WECHATPAY_PUBLIC_KEY_ID (PUB_KEY_ID_...) is needed to verify WeChat Pay"
                )
        return found


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("SUANPAN_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"SUANPAN_ENV={name!r}: expected one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
