"""Reading settings from the environment, once, at start-up, with defaults that work for the local run.

Every reader checks its value: a bad one raises SettingError naming the variable and what it must be, so a
service refuses to start (the CLI prints the message and exits 2) instead of failing on a request later.
"""

import os
from decimal import Decimal, InvalidOperation


class SettingError(ValueError):
    """A variable of the environment holds a value the service cannot use."""

    def __init__(self, name: str, raw: str, must: str):
        super().__init__(f"{name}={raw!r}: must be {must}")
        self.name = name


def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    must = "a whole number" + (f" from {minimum}" if minimum is not None else "") + (
        f" to {maximum}" if maximum is not None else "")
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(name, raw, must) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingError(name, raw, must)
    return value


def env_port(name: str, default: int) -> int:
    return env_int(name, default, 1, 65535)


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingError(name, raw, f"a number, at least {minimum}") from None
    if not value >= minimum or value == float("inf"):
        raise SettingError(name, raw, f"a number, at least {minimum}")
    return value


def env_decimal(name: str, default: str, minimum: Decimal = Decimal(0)) -> Decimal:
    raw = os.environ.get(name)
    if not raw:
        return Decimal(default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise SettingError(name, raw, f"a decimal number, at least {minimum}") from None
    if not value.is_finite() or value < minimum:
        raise SettingError(name, raw, f"a decimal number, at least {minimum}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if not raw:
        return default
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise SettingError(name, raw, "true or false (1/0, yes/no, on/off)")


def env_url(name: str, default: str) -> str:
    """An http(s) URL without its trailing slash."""
    raw = env_str(name, default).strip()
    if not raw.startswith(("http://", "https://")) or len(raw) < 10 or " " in raw:
        raise SettingError(name, raw, "an http:// or https:// URL")
    return raw.rstrip("/")


def env_smtp(prefix: str, sender: str) -> dict:
    """The smtp_* settings of a service from <PREFIX>_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _STARTTLS and
    _TIMEOUT; the defaults suit a local catcher such as `python -m aiosmtpd -n -l 127.0.0.1:1025`."""
    return {"smtp_host": env_str(f"{prefix}_SMTP_HOST", "127.0.0.1"),
            "smtp_port": env_port(f"{prefix}_SMTP_PORT", 1025),
            "smtp_user": env_str(f"{prefix}_SMTP_USER", ""), "smtp_password": env_str(f"{prefix}_SMTP_PASSWORD", ""),
            "smtp_from": env_str(f"{prefix}_SMTP_FROM", sender),
            "smtp_starttls": env_bool(f"{prefix}_SMTP_STARTTLS", False),
            "smtp_timeout": env_float(f"{prefix}_SMTP_TIMEOUT", 10.0, 0.1)}
