"""Socket.IO events run without the cookie session: a token authenticates them (SPEC R30).

Flask-SocketIO handles each event inside a request context built from the
socket's handshake environ, and Flask opens the cookie session of every
request context it pushes: parsing the handshake's cookies and checking their
signature again on every connect, SEEK and SYNC_CHECK, for a session no
socket handler reads.
"""

from flask.sessions import SecureCookieSessionInterface


class CookieSessionsForPagesOnly(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a Socket.IO event gets an empty one, never saved."""

    def __init__(self, socketio_path: str) -> None:
        self.socket_prefix = f"/{socketio_path.strip('/')}/"

    def open_session(self, app, request):
        if request.environ.get("PATH_INFO", "").startswith(self.socket_prefix):
            return self.session_class()
        return super().open_session(app, request)
