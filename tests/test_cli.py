"""`flask create-user` (SPEC R5)."""

from sqlalchemy import select

from watchparty.auth.models import User
from watchparty.extensions import db


def test_create_user_success(app, runner):
    result = runner.invoke(
        args=["create-user", "Gina@Example.com", "--password", "long enough", "--display-name", "Gina"]
    )
    assert result.exit_code == 0, result.output
    assert "created user" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email_key == "gina@example.com"
        assert user.display_name == "Gina"
        assert user.check_password("long enough")
        assert "long enough" not in user.password_hash


def test_create_user_duplicate_email_fails(runner):
    assert runner.invoke(args=["create-user", "hank@example.com", "--password", "long enough"]).exit_code == 0
    result = runner.invoke(args=["create-user", "HANK@example.com", "--password", "long enough"])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_create_user_short_password_fails(runner):
    result = runner.invoke(args=["create-user", "ivy@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "password" in result.output


def test_create_user_default_display_name(app, runner):
    result = runner.invoke(args=["create-user", "jane.doe@example.com", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User)).display_name == "jane.doe"
