"""The committed migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from tests.support import TEST_JWT_SECRET_KEY, TEST_SECRET_KEY
from watchparty import create_app
from watchparty.extensions import db


def test_migrations_match_models(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
            "SECRET_KEY": TEST_SECRET_KEY,
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
            "ASYNC_MODE": "threading",
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert differences == []
