"""Room chat (SPEC R50-R56)."""

from watchparty.chat.services import ChatRefused, bootstrap_messages, post_message, recent_messages

__all__ = ["ChatRefused", "bootstrap_messages", "post_message", "recent_messages"]
