"""Operating a server process: probes, draining, metrics and structured logs (R180-R184)."""

from watchparty.extensions import socketio


def init_app(app) -> None:
    """Mount the probes and /metrics, count and time the work, the Admin UI if asked, draining."""
    from watchparty.ops import admin_ui, draining, logs, metrics, probes

    app.register_blueprint(probes.bp)
    app.register_blueprint(metrics.bp)
    metrics.time_database(app)
    logs.init_app(app)
    metrics.count_emits(socketio.server)
    admin_ui.init_app(app)
    app.wsgi_app = draining.RefuseNewSocketsWhileDraining(app.wsgi_app)
