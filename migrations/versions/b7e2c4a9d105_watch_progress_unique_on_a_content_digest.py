"""Watch progress: the unique key on a digest of content_id

content_id reaches 2,048 characters, up to 8 KiB of UTF-8: past PostgreSQL's
B-tree row limit in a unique index. The key moves to its SHA-256 digest.

Revision ID: b7e2c4a9d105
Revises: a10ff1d5e58d
Create Date: 2026-11-30 06:25:00

"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "b7e2c4a9d105"
down_revision = "a10ff1d5e58d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("watch_progress") as batch:
        batch.add_column(sa.Column("content_key", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, content_id FROM watch_progress")).fetchall()
    for row_id, content_id in rows:
        digest = hashlib.sha256(content_id.encode()).hexdigest()
        connection.execute(
            sa.text("UPDATE watch_progress SET content_key = :key WHERE id = :id"), {"key": digest, "id": row_id}
        )
    with op.batch_alter_table("watch_progress") as batch:
        batch.alter_column("content_key", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint("uq_watch_progress_user_room_content", type_="unique")
        batch.create_unique_constraint(
            "uq_watch_progress_user_room_content_key", ["user_id", "room_id", "content_key"]
        )


def downgrade():
    with op.batch_alter_table("watch_progress") as batch:
        batch.drop_constraint("uq_watch_progress_user_room_content_key", type_="unique")
        batch.create_unique_constraint(
            "uq_watch_progress_user_room_content", ["user_id", "room_id", "content_id"]
        )
        batch.drop_column("content_key")
