"""Operating a server process: probes, draining, metrics and structured logs (R180-R184)."""


def init_app(app) -> None:
    """Mount the probes and /metrics, time the database, and refuse handshakes while draining."""
    from watchparty.ops import draining, logs, metrics, probes

    app.register_blueprint(probes.bp)
    app.register_blueprint(metrics.bp)
    metrics.time_database(app)
    logs.init_app(app)
    app.wsgi_app = draining.RefuseNewSocketsWhileDraining(app.wsgi_app)
