"""How one process holds its connections: the gevent handler, WebSocket limits, the gunicorn worker."""
