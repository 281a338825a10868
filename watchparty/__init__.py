"""The watchparty application factory."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from watchparty import config as settings
from watchparty.extensions import csrf, db, jwt, limiter, login_manager, migrate, realtime
from watchparty.realtime import keys, socket_server
from watchparty.realtime.connection import redis_client
from watchparty.realtime.redis_store import fast_failing_redis_options


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the watchparty application."""
    app = Flask(__name__, instance_relative_config=True)
    make_private_instance_dir(app.instance_path)
    configure_logging(app)
    load_config(app, test_config)
    app.json.sort_keys = False  # keep the SPEC's field order in responses
    register_extensions(app)
    register_blueprints(app)
    register_operations(app)
    register_error_handlers(app)
    register_commands(app)
    register_socket_namespaces()
    trust_proxies(app)  # outermost, so Socket.IO sees the client's address too
    return app


def load_config(app: Flask, test_config: dict | None) -> None:
    """Apply defaults, then the environment, then test overrides (SPEC R4)."""
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_mapping(settings.settings_from_env())
    if test_config:
        app.config.from_mapping(test_config)
    settings.finalize(app.config, app.instance_path)


def make_private_instance_dir(path: str) -> None:
    """instance/ holds generated secrets and the SQLite file: only the owner may enter it."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from TRUSTED_PROXY_HOPS proxies, no more (SPEC R178)."""
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def configure_logging(app: Flask) -> None:
    """Log at INFO to stderr, as text or JSON (LOG_FORMAT), unless the host application configured logging."""
    from watchparty.ops import logs

    logs.configure(settings.settings_from_env().get("LOG_FORMAT"))


def register_extensions(app: Flask) -> None:
    """Bind every extension object to the app."""
    import watchparty.models  # noqa: F401 - every table known before migrations or create_all
    from watchparty.database import configure_engine_events

    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    jwt.init_app(app)
    csrf.init_app(app)
    configure_rate_limit_storage(app.config)
    limiter.init_app(app)
    realtime.init_app(app)
    socket_server.init_app(app)


def configure_rate_limit_storage(config) -> None:
    """Rate limits count in Redis through a client we built (TLS, Sentinel: R183), else in memory."""
    config.setdefault("RATELIMIT_KEY_PREFIX", keys.LIMITER_PREFIX)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # With Redis down, count in process rather than fail or stall the login (R10: answer within 2 s).
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if not config.get("REDIS_URL") or "RATELIMIT_STORAGE_URI" in config:
        config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
        return
    client = redis_client(config["REDIS_URL"], **fast_failing_redis_options())
    config["RATELIMIT_STORAGE_URI"] = "redis://"  # only names the kind: the pool says where
    config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": client.connection_pool})


def register_blueprints(app: Flask) -> None:
    """Mount the HTTP API blueprints."""
    from watchparty.auth.routes import bp as auth_bp
    from watchparty.moderation.routes import bp as moderation_bp
    from watchparty.openapi.routes import bp as openapi_bp
    from watchparty.progress.routes import bp as progress_bp
    from watchparty.providers.routes import bp as providers_bp
    from watchparty.queue.routes import bp as queue_bp
    from watchparty.roles.routes import bp as roles_bp
    from watchparty.rooms.routes import bp as rooms_bp
    from watchparty.web.routes import bp as web_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(rooms_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(providers_bp)
    app.register_blueprint(roles_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(queue_bp)


def register_operations(app: Flask) -> None:
    """Probes, draining, metrics, request logs and the optional Admin UI (R180-R184)."""
    from watchparty import ops

    ops.init_app(app)


def register_error_handlers(app: Flask) -> None:
    """Answer every failure under /api/ as JSON (SPEC R10)."""
    from watchparty.errors import init_app

    init_app(app)


def register_socket_namespaces() -> None:
    """Attach the /room namespace (R30-R64)."""
    from watchparty.rooms.events import register_namespace

    register_namespace()


def register_commands(app: Flask) -> None:
    """Add the project's CLI commands (SPEC R5)."""
    from watchparty.cli import init_app

    init_app(app)
