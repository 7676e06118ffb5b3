"""Typed configuration, read once: environment variables, then `$KOLIBRI_LIKE_HOME/settings.toml`.

The environment wins over the file; the file wins over the embedded defaults. Every value
remembers where it came from so that `kolibri-like settings` can show it.

    >>> config = load_config({"KOLIBRI_LIKE_HOME": "/srv/kl", "DEBUG": "1"})
    >>> config.debug, config.sources["DEBUG"]
    (True, 'environment')
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the setting."""

    exit_code = 2


def parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def parse_size(name: str, raw: Any) -> int:
    """Bytes, with an optional K/M/G/T suffix (binary multiples): `4G`, `512M`, `1048576`."""
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip().upper().removesuffix("IB").removesuffix("B")
        multiplier = 1
        for suffix, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4)):
            if text.endswith(suffix):
                multiplier = 1024**power
                text = text[:-1]
                break
        try:
            value = int(float(text) * multiplier)
        except ValueError:
            raise ConfigError(f"{name} must be a size such as 4G or 512M; got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive; got {raw!r}")
    return value


def parse_positive_int(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number; got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive; got {raw!r}")
    return value


def parse_port(name: str, raw: Any) -> int:
    """A TCP port, or 0 for "work it out" (each setting says how)."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a port number; got {raw!r}") from None
    if not 0 <= value <= 65535:
        raise ConfigError(f"{name} must be between 1 and 65535 (or 0); got {raw!r}")
    return value


def parse_list(name: str, raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(item).strip() for item in raw if str(item).strip()]
    return [item.strip() for item in str(raw).split(",") if item.strip()]


def parse_text(name: str, raw: Any) -> str:
    return str(raw)


@dataclass(frozen=True)
class SettingSpec:
    name: str
    parse: Callable[[str, Any], Any]
    default: Callable[[dict[str, Any]], Any]
    secret: bool = False
    help: str = ""


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("CONTENT_DIR", lambda n, v: Path(v).expanduser(),
                lambda s: s["KOLIBRI_LIKE_HOME"] / "content",
                help="channel databases and the file store"),
    SettingSpec("DATABASE_URL", parse_text,
                lambda s: f"sqlite:///{s['KOLIBRI_LIKE_HOME'] / 'db.sqlite3'}",
                secret=True, help="default database (users, progress, registry)"),
    SettingSpec("REDIS_URL", parse_text, lambda s: "", secret=True,
                help="task queue on Redis; empty keeps it in a SQLite file"),
    SettingSpec("QUEUE_NAME", parse_text, lambda s: "kolibri-like",
                help="task queue name; servers and workers sharing one Redis use the same"),
    SettingSpec("DEBUG", parse_bool, lambda s: False),
    SettingSpec("ALLOWED_HOSTS", parse_list, lambda s: [],
                help="added to this machine's own names and addresses"),
    SettingSpec("SERVER_NAME", parse_text, lambda s: socket.gethostname()),
    SettingSpec("ALLOW_GUEST_ACCESS", parse_bool, lambda s: True),
    SettingSpec("MAX_UPLOAD_SIZE", parse_size, lambda s: 4 * 1024**3),
    SettingSpec("ZEROCONF_ENABLED", parse_bool, lambda s: True),
    SettingSpec("ZIP_PORT", parse_port, lambda s: 0,
                help="port of the sandbox origin for HTML5 apps and Flash; 0: the server's "
                     "port + 1 (`kolibri-like start --zip-port` wins)"),
    SettingSpec("FFMPEG_BINARY", parse_text, lambda s: "",
                help="empty: ffmpeg on PATH, else the one imageio-ffmpeg ships"),
    SettingSpec("ENCODE_TIMEOUT_SECONDS", parse_positive_int, lambda s: 6 * 60 * 60,
                help="longest one video encode may run (a shorter video gets less: ten "
                     "times its duration, at least ten minutes)"),
    SettingSpec("MEDIA_MEMORY_LIMIT", parse_size, lambda s: 4 * 1024**3,
                help="address space one ffmpeg or LibreOffice run may use; past it the run "
                     "ends in Error"),
    SettingSpec("MEDIA_CPU_LIMIT_SECONDS", parse_positive_int, lambda s: 12 * 60 * 60,
                help="processor time one ffmpeg or LibreOffice process may use; holds even "
                     "if the worker that started it died"),
    SettingSpec("MEDIA_FILE_SIZE_LIMIT", parse_size, lambda s: 16 * 1024**3,
                help="largest file one ffmpeg or LibreOffice run may write"),
    SettingSpec("SOFFICE_BINARY", parse_text, lambda s: "",
                help="empty: soffice or libreoffice on PATH (documents get a PDF copy)"),
    SettingSpec("CONVERT_TIMEOUT_SECONDS", parse_positive_int, lambda s: 300,
                help="longest one document-to-PDF conversion may run"),
    SettingSpec("CERTIFICATE_RENDER_TIMEOUT_SECONDS", parse_positive_int, lambda s: 60,
                help="longest one certificate PDF may take to render; past it the render "
                     "is stopped and retried later"),
    SettingSpec("CONTENT_DB_CONNECTIONS_PER_THREAD", parse_positive_int, lambda s: 64,
                help="channel databases each server thread keeps open"),
    SettingSpec("KOLIBRI_LIKE_ADMIN_USERNAME", parse_text, lambda s: ""),
    SettingSpec("KOLIBRI_LIKE_ADMIN_PASSWORD", parse_text, lambda s: "", secret=True),
)


@dataclass(frozen=True)
class Config:
    home: Path
    content_dir: Path
    database_url: str
    redis_url: str
    queue_name: str
    debug: bool
    allowed_hosts: list[str]
    server_name: str
    allow_guest_access: bool
    max_upload_size: int
    zeroconf_enabled: bool
    ffmpeg_binary: str
    encode_timeout_seconds: int
    content_db_connections_per_thread: int
    admin_username: str
    admin_password: str
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def display_items(self) -> list[tuple[str, str, str]]:
        """(name, value, source) for every setting, with secrets and passwords in URLs hidden."""
        rows = []
        specs = {spec.name: spec for spec in SETTINGS}
        for name, value in self.values.items():
            spec = specs.get(name)
            shown = value
            if isinstance(value, list):
                shown = ",".join(value)
            shown = str(shown)
            if spec is not None and spec.secret and shown:
                shown = redact(shown)
            rows.append((name, shown, self.sources[name]))
        return rows


def redact(value: str) -> str:
    """Hide a password, keeping a URL's shape so the admin still sees which server it names."""
    if "://" in value:
        scheme, rest = value.split("://", 1)
        if "@" in rest:
            credentials, host = rest.rsplit("@", 1)
            user = credentials.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}" if ":" in credentials else value
        return value
    return "***"


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    if environ.get("KOLIBRI_LIKE_HOME"):
        values["KOLIBRI_LIKE_HOME"] = Path(environ["KOLIBRI_LIKE_HOME"]).expanduser()
        sources["KOLIBRI_LIKE_HOME"] = "environment"
    else:
        values["KOLIBRI_LIKE_HOME"] = Path("~/.kolibri-like").expanduser()
        sources["KOLIBRI_LIKE_HOME"] = "default"
    home: Path = values["KOLIBRI_LIKE_HOME"]

    toml_path = home / "settings.toml"
    file_values: dict[str, Any] = {}
    if toml_path.exists():
        try:
            file_values = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{toml_path} is not valid TOML: {error}") from None
        known = {spec.name for spec in SETTINGS}
        unknown = sorted(set(file_values) - known)
        if unknown:
            raise ConfigError(f"{toml_path} names unknown settings: {', '.join(unknown)}")

    for spec in SETTINGS:
        if spec.name in environ:
            values[spec.name] = spec.parse(spec.name, environ[spec.name])
            sources[spec.name] = "environment"
        elif spec.name in file_values:
            values[spec.name] = spec.parse(spec.name, file_values[spec.name])
            sources[spec.name] = str(toml_path)
        else:
            values[spec.name] = spec.default(values)
            sources[spec.name] = "default"

    return Config(
        home=home,
        content_dir=values["CONTENT_DIR"],
        database_url=values["DATABASE_URL"],
        redis_url=values["REDIS_URL"],
        queue_name=values["QUEUE_NAME"],
        debug=values["DEBUG"],
        allowed_hosts=values["ALLOWED_HOSTS"],
        server_name=values["SERVER_NAME"],
        allow_guest_access=values["ALLOW_GUEST_ACCESS"],
        max_upload_size=values["MAX_UPLOAD_SIZE"],
        zeroconf_enabled=values["ZEROCONF_ENABLED"],
        ffmpeg_binary=values["FFMPEG_BINARY"],
        encode_timeout_seconds=values["ENCODE_TIMEOUT_SECONDS"],
        content_db_connections_per_thread=values["CONTENT_DB_CONNECTIONS_PER_THREAD"],
        admin_username=values["KOLIBRI_LIKE_ADMIN_USERNAME"],
        admin_password=values["KOLIBRI_LIKE_ADMIN_PASSWORD"],
        values=values,
        sources=sources,
    )


def machine_hosts() -> list[str]:
    """This machine's own names and addresses: always allowed as Host, so learners can type them."""
    hosts = {"localhost", "127.0.0.1", "[::1]", socket.gethostname()}
    try:
        hosts.add(socket.getfqdn())
        for info in socket.getaddrinfo(socket.gethostname(), None):
            address = str(info[4][0])
            hosts.add(f"[{address}]" if ":" in address else address)
    except OSError:
        pass
    hosts.update(_interface_addresses())
    return sorted(hosts)


def _interface_addresses() -> set[str]:
    """IPv4 addresses of the network interfaces, asked of the kernel (Linux); no packet is sent."""
    addresses: set[str] = set()
    try:
        import fcntl
        import struct

        siocgifaddr = 0x8915
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _index, name in socket.if_nameindex():
                request = struct.pack("256s", name.encode()[:15])
                try:
                    answer = fcntl.ioctl(probe.fileno(), siocgifaddr, request)
                except OSError:
                    continue
                addresses.add(socket.inet_ntoa(answer[20:24]))
    except (ImportError, OSError):
        pass
    return addresses
