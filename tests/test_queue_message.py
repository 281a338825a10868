"""The PLAYBACK_STATE message our caching script publishes is the one python-socketio would (SPEC R38)."""

from watchparty.realtime.socket_server import NAMESPACE, RedisManager


class CapturingManager(RedisManager):
    """A RedisManager that keeps what it would publish or deliver, instead of touching Redis."""

    def __init__(self):
        super().__init__("redis://127.0.0.1:1/0", write_only=True)
        self.published, self.delivered = [], []

    def _publish(self, data):
        self.published.append(data)

    def _handle_emit(self, message):
        self.delivered.append(message)


def test_our_room_emit_message_is_python_socketios_own():
    manager = CapturingManager()
    payload = {
        "is_playing": True,
        "time": 12.5,
        "version": 7,
        "server_time": 1.0,
        "effective_at": 1.3,
        "rate": 1,
    }
    manager.emit("PLAYBACK_STATE", payload, namespace=NAMESPACE, to="ABCDEFGH")
    assert (
        manager.published
        == manager.delivered
        == [manager.room_emit_message("PLAYBACK_STATE", payload, "ABCDEFGH")]
    )
