"""Every table, imported in one place so migrations and create_all see them all."""

from watchparty.auth.models import User
from watchparty.chat.models import ChatMessage
from watchparty.moderation.models import Ban
from watchparty.progress.models import WatchProgress
from watchparty.queue.models import QueueItem
from watchparty.rooms.models import Participant, Playback, Room

__all__ = ["Ban", "ChatMessage", "Participant", "Playback", "QueueItem", "Room", "User", "WatchProgress"]
