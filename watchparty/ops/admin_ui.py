"""The optional Socket.IO Admin UI (python-socketio's `instrument()`), off unless ADMIN_UI_PASSWORD is set.

It reports this process's Socket.IO connections and traffic to an operator
who logs in with ADMIN_UI_USERNAME / ADMIN_UI_PASSWORD from ADMIN_UI_ORIGIN
(the hosted UI, https://admin.socket.io, by default). Production mode and
read-only by default: it shows, it does not disconnect or move sockets.
"""

import hmac


def is_enabled(config) -> bool:
    return bool(config.get("ADMIN_UI_PASSWORD"))


def init_app(app) -> None:
    """Instrument the Socket.IO server when the operator set a password."""
    if not is_enabled(app.config):
        return
    username = str(app.config["ADMIN_UI_USERNAME"])
    password = str(app.config["ADMIN_UI_PASSWORD"])

    def operator(auth) -> bool:
        if not isinstance(auth, dict):
            return False
        given_user, given_password = str(auth.get("username", "")), str(auth.get("password", ""))
        return hmac.compare_digest(given_user, username) & hmac.compare_digest(given_password, password)

    from watchparty.realtime import socket_server

    socket_server.instrument(
        auth=operator, mode="production", read_only=bool(app.config["ADMIN_UI_READ_ONLY"])
    )


def socket_origins(config):
    """What Socket.IO accepts as Origin: CORS_ALLOWED_ORIGINS, plus the Admin UI's when it is on."""
    configured = config.get("CORS_ALLOWED_ORIGINS")
    if not is_enabled(config):
        return configured
    admin_origin = config["ADMIN_UI_ORIGIN"]

    def allowed(origin, environ) -> bool:
        if origin is None or origin == admin_origin or configured == "*":
            return True
        if configured is None:
            return origin in own_origins(environ)
        return origin in ([configured] if isinstance(configured, str) else configured)

    return allowed


def own_origins(environ) -> set[str]:
    """This server's origin as the request names it, directly or through a proxy (Engine.IO's default)."""
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    return {f"{scheme}://{host}", f"{forwarded_scheme}://{forwarded_host}"}
