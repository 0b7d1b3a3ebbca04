"""Settings from `KYRIOS_*` environment variables and a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kyrios.core.features import Feature

DEFAULT_DATABASE_FILE = "kyrios.db"


class Settings(BaseSettings):
    """Everything Kyrios reads from its environment. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_prefix="KYRIOS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"
    )
    redis_url: str | None = None
    exchange_over_redis: bool = True
    """With `redis_url`, a process that does not run the exchange sends its exchange commands to the
    one that does over Redis Streams (`exchange/streams.py`); `KYRIOS_EXCHANGE_OVER_REDIS=0` keeps
    such a process read-only for the exchange, as without Redis."""
    exchange_timeout_seconds: float = 5.0
    """How long a command sent to the exchange over Redis waits for the answer."""
    discord_token: SecretStr | None = None
    discord_application_id: int | None = None
    discord_public_key: str | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_client_secret: SecretStr | None = None
    """The application's OAuth2 client secret: with `discord_application_id`, enables signing in
    with Discord on the web page."""
    discord_authorize_url: str = "https://discord.com/oauth2/authorize"
    discord_redirect_uri: str | None = None
    """Where Discord sends the browser back (`…/api/v1/auth/discord/callback`); default: this request's
    own address, which is right unless a proxy rewrites it."""
    default_timezone: str = "Asia/Tokyo"
    public_url: str | None = None
    """The web app's address as members reach it (`https://kyrios.example`): links in replies and the
    domain wallet sign-in messages name; default: `http://{host}:{port}`."""
    host: str = "127.0.0.1"
    port: int = 8000
    interaction_max_age_seconds: int = 300
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    """`json`: one JSON object per line (for a log pipeline); `console`: readable lines; `auto`: JSON
    in production mode, readable otherwise."""
    mode: Literal["local", "production"] = "local"
    """`local` (the embedded default) allows the dev login and makes up a JWT secret when none is set;
    `production` refuses both."""
    jwt_secret: SecretStr | None = None
    """The HS256 key of the web API's access tokens; required in production mode."""
    jwt_secret_file: Path = Field(default_factory=lambda: Path.cwd() / ".kyrios-jwt-secret")
    """Where local mode keeps the secret it made up, so tokens survive a restart."""
    access_token_seconds: int = 900
    refresh_token_days: int = 30
    bots: bool = True
    """`kyrios up` lists a few symbols on an empty exchange and starts `kyrios bots` against itself
    (a subprocess) so the market lives; `KYRIOS_BOTS=0` turns that off."""
    music_cookies_file: Path | None = None
    """A cookies.txt (Netscape format) yt-dlp sends with its requests: the documented remedy when
    YouTube answers "Sign in to confirm you're not a bot". A deployment setting, not a guild's: it
    names a file on this machine (and yt-dlp writes refreshed cookies back to it)."""
    music_resolve_timeout_seconds: float = 30.0
    """How long resolving one `/play` may take before it is given up."""
    ffmpeg: str = "ffmpeg"
    """The FFmpeg executable music plays through (Debian: `apt-get install ffmpeg`)."""
    disabled_features: str = ""
    """Slices this deployment does not run, comma-separated (`modlog,avatars`): no commands, no cog,
    no gateway intents for them. Guilds switch features for themselves with `/settings feature`."""

    avatar_image_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    """The largest avatar or banner image the archive reads from the CDN and keeps."""
    avatar_archive_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    """The archive of avatar and banner images as a whole: past it, the least recently seen go."""
    backup_dir: Path = Field(default_factory=lambda: Path.cwd() / "backups")
    """Where `kyrios backup` writes its archives (and keeps `backup_keep_daily` / `_weekly` of them)."""
    backup_key: SecretStr | None = None
    """A passphrase: when set, backups are encrypted with AES-256-GCM under a key derived from it
    (scrypt); restoring one needs the same passphrase."""
    backup_copy_to: str | None = None
    """A second location every backup is copied to: a directory, or `s3://bucket/prefix` (credentials
    and region from the usual AWS variables; `backup_s3_endpoint_url` for S3-compatible stores)."""
    backup_s3_endpoint_url: str | None = None
    backup_keep_daily: int = Field(default=7, ge=1)
    """How many days keep their newest backup."""
    backup_keep_weekly: int = Field(default=13, ge=0)
    """How many ISO weeks keep their newest backup (13: about 90 days)."""
    backup_schedule: bool = False
    """`kyrios up` backs up (then verifies the backup) every day at `backup_time`; off by default."""
    backup_time: str = "03:00"
    """When the daily backup runs, `HH:MM` in UTC."""

    @field_validator("discord_public_key")
    @classmethod
    def _public_key_is_hex(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            raw = bytes.fromhex(value)
        except ValueError as exc:
            raise ValueError("KYRIOS_DISCORD_PUBLIC_KEY must be hex") from exc
        if len(raw) != 32:
            raise ValueError("KYRIOS_DISCORD_PUBLIC_KEY must be 32 bytes (64 hex digits)")
        return value.lower()

    @field_validator("jwt_secret")
    @classmethod
    def _secret_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("KYRIOS_JWT_SECRET must have at least 32 bytes (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("backup_time")
    @classmethod
    def _backup_time_is_hh_mm(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("KYRIOS_BACKUP_TIME must be HH:MM (UTC), e.g. 03:00")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("disabled_features")
    @classmethod
    def _known_features(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        known = {feature.value for feature in Feature} - {Feature.GUILD_SETTINGS.value}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"KYRIOS_DISABLED_FEATURES: {', '.join(unknown)} cannot be disabled; the features are:"
                f" {', '.join(sorted(known))}"
            )
        return ",".join(names)

    @property
    def disabled_slices(self) -> frozenset[Feature]:
        """The slices `disabled_features` names."""
        return frozenset(Feature(name) for name in self.disabled_features.split(",") if name)

    @property
    def site_url(self) -> str:
        """`public_url` without a trailing slash, else this server's own address."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """Why this configuration must not start in production mode (empty: it may, or mode is local).

        The dev login is refused per request in production mode (`web.auth.kit`); what is checked
        here is what a production process needs before it serves anything."""
        if self.mode != "production":
            return []
        problems = []
        if self.is_sqlite:
            problems.append(
                "KYRIOS_DATABASE_URL is SQLite: production needs a server database"
                " (mysql://user:password@host/db or postgresql://user:password@host/db)"
            )
        if self.jwt_secret is None:
            problems.append(
                "KYRIOS_JWT_SECRET is unset: production needs one of 32+ bytes (`openssl rand -hex 32`)"
            )
        return problems


class ProductionRefused(RuntimeError):
    """`KYRIOS_MODE=production` with a configuration that must not serve: the process does not start."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("KYRIOS_MODE=production refuses to start:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


def require_production_ready(settings: Settings) -> None:
    """Raise `ProductionRefused` naming every problem when production mode's needs are unmet."""
    problems = settings.production_problems()
    if problems:
        raise ProductionRefused(problems)
