"""Template filters of the pages: ages, viewer counts and times as static/js/public-rooms.js writes them."""

from datetime import UTC, datetime

from flask import Blueprint


def register(bp: Blueprint) -> None:
    """Make the filters available to every template."""
    bp.add_app_template_filter(time_ago, "time_ago")
    bp.add_app_template_filter(viewers_label, "viewers_label")
    bp.add_app_template_filter(iso_time, "iso_time")


def parse_time(value: datetime | str | None) -> datetime | None:
    """Read an ISO 8601 string or a datetime as an aware UTC datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def time_ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """Say how long ago a time was, as static/js/public-rooms.js does ("5 min ago")."""
    moment = parse_time(value)
    if moment is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day ago" if days == 1 else f"{days} days ago"


def viewers_label(count: int | None) -> str:
    """Say how many people watch ("1 viewer", "3 viewers")."""
    count = int(count or 0)
    return "1 viewer" if count == 1 else f"{count} viewers"


def iso_time(value: datetime | str | None) -> str:
    """Return the time as an ISO 8601 UTC string for a <time datetime> attribute."""
    moment = parse_time(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""
