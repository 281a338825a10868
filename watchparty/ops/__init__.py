"""Operating a server process: probes, draining, metrics and structured logs (R180-R184)."""


def init_app(app) -> None:
    """Mount the probes and /metrics, count and time the work, the Admin UI if asked, draining."""
    from watchparty.ops import admin_ui, draining, logs, metrics, probes
    from watchparty.realtime import socket_server

    app.register_blueprint(probes.bp)
    app.register_blueprint(metrics.bp)
    metrics.time_database(app)
    logs.init_app(app)
    socket_server.count_emits(metrics.EMITS)
    admin_ui.init_app(app)
    app.wsgi_app = draining.refuse_new_sockets_while_draining(app.wsgi_app)
