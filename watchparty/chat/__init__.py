"""Room chat (SPEC R50-R56)."""

from watchparty.chat.services import bootstrap_messages, recent_messages

__all__ = ["bootstrap_messages", "recent_messages"]
