"""The room queue in the database, one version bump per change (SPEC R150-R153).

Every change starts its transaction with `UPDATE rooms SET queue_version =
queue_version + 1`: that takes the room's write lock (SQLite's database lock,
PostgreSQL's row lock), so concurrent edits from any process run one after
the other, and each version's items are read under the lock that made it.
"""

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from watchparty import providers
from watchparty.auth.models import User
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import db
from watchparty.queue.models import QueueItem, item_dict
from watchparty.roles.permissions import Action
from watchparty.roles.services import require
from watchparty.roles.settings import effective_settings
from watchparty.rooms import broadcast
from watchparty.rooms.models import Room


class NoSuchItem(DomainError):
    def __init__(self):
        super().__init__(Kind.NOT_FOUND, "There is no such item in this room's queue.")


def bump_version(room_id: int) -> int:
    """Start a queue change: one more version, and the room's write lock until commit."""
    statement = (
        update(Room)
        .where(Room.id == room_id)
        .values(queue_version=Room.queue_version + 1)
        .returning(Room.queue_version)
    )
    return db.session.execute(statement, execution_options={"synchronize_session": False}).scalar_one()


def items_of(room_id: int) -> list[QueueItem]:
    """The queue in play order."""
    query = select(QueueItem).where(QueueItem.room_id == room_id).order_by(QueueItem.position, QueueItem.id)
    return list(db.session.scalars(query))


_ITEMS_IN_ORDER = (
    select(QueueItem.id, QueueItem.media, QueueItem.title, User.id, User.display_name, QueueItem.added_at)
    .join(User, User.id == QueueItem.added_by_id)
    .where(QueueItem.room_id == bindparam("room"))
    .order_by(QueueItem.position, QueueItem.id)
)


def queue_payload(room_id: int, version: int) -> dict:
    """`{items, version}`, the shape of R151 and QUEUE_UPDATED: rows of one compiled query.

    Pending changes are flushed first, so a change about to commit is in the payload.
    """
    db.session.flush()
    rows = db.session.connection().execute(_ITEMS_IN_ORDER, {"room": room_id}).all()
    return {"items": [item_dict(*row) for row in rows], "version": version}


def read_queue(room: Room) -> dict:
    """The queue as it stands, with its version (R151)."""
    version = db.session.scalar(select(Room.queue_version).where(Room.id == room.id))
    return queue_payload(room.id, version)


def committed(room: Room, version: int) -> dict:
    """Build the new queue's payload under the lock, commit, then tell the room (R153)."""
    payload = queue_payload(room.id, version)
    db.session.commit()
    broadcast.queue_updated(room.code, payload)
    return payload


def add_item(room: Room, user: User, media: dict, title: str) -> dict:
    """Append an item; 409 `queue_full` at QUEUE_MAX_ITEMS (R152)."""
    queue_open = effective_settings(room.settings)["queue_mode"] == "open"
    require(room, user.id, Action.QUEUE_ADD, queue_open=queue_open)
    media = providers.validate_media(media)
    version = bump_version(room.id)
    count, last = db.session.execute(
        select(func.count(QueueItem.id), func.max(QueueItem.position)).where(QueueItem.room_id == room.id)
    ).one()
    if count >= int(current_app.config["QUEUE_MAX_ITEMS"]):
        db.session.rollback()
        raise DomainError(Kind.CONFLICT, "The queue is full.", code="queue_full")
    item = QueueItem(room_id=room.id, position=(last or 0) + 1, media=media, title=title, added_by_id=user.id)
    db.session.add(item)
    db.session.flush()
    item_payload = item.to_dict()
    committed(room, version)
    return {"item": item_payload, "version": version}


def remove_item(room: Room, user: User, item_id: int) -> None:
    """Take an item out; viewers only their own (R152)."""
    item = find_item(room, item_id)
    require(room, user.id, Action.QUEUE_REMOVE, own_item=item.added_by_id == user.id)
    version = bump_version(room.id)
    if db.session.get(QueueItem, item_id, populate_existing=True) is None:
        db.session.rollback()
        raise NoSuchItem()
    db.session.delete(item)
    committed(room, version)


def move_item(room: Room, user: User, item_id: int, index: int) -> dict:
    """Move an item to `index` (0-based, clamped to the queue); the route checked the role (R152)."""
    version = bump_version(room.id)
    items = items_of(room.id)
    moving = next((item for item in items if item.id == item_id), None)
    if moving is None:
        db.session.rollback()
        raise NoSuchItem()
    items.remove(moving)
    items.insert(max(0, min(index, len(items))), moving)
    for position, item in enumerate(items):
        item.position = position
    return committed(room, version)


def find_item(room: Room, item_id: int) -> QueueItem:
    """The room's item, or 404."""
    item = db.session.get(QueueItem, item_id)
    if item is None or item.room_id != room.id:
        raise NoSuchItem()
    return item
