"""Operator commands: `flask --app wsgi create-user`, `expire-rooms` (SPEC R5)."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from pydantic import ValidationError

from watchparty.auth import services as auth_services
from watchparty.auth.schemas import RegisterBody
from watchparty.domain_errors import DomainError
from watchparty.errors import validation_fields
from watchparty.realtime import socket_server
from watchparty.rooms import expiry


@click.command("create-user")
@click.argument("email")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--display-name", default=None, help="1-40 characters; defaults to the email's local part.")
@with_appcontext
def create_user_command(email: str, password: str, display_name: str | None) -> None:
    """Create an account from the command line."""
    name = display_name if display_name is not None else email.split("@", 1)[0][:40]
    try:
        body = RegisterBody.model_validate({"email": email, "password": password, "display_name": name})
        user = auth_services.register_user(body.email, body.password, body.display_name)
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {msg}" for field, msg in validation_fields(exc).items())
        raise click.ClickException(f"invalid input: {problems}") from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created user {user.id} <{user.email}>")


@click.command("expire-rooms")
@click.option("--dry-run", is_flag=True, help="Change nothing; print how many rooms would expire.")
@with_appcontext
def expire_rooms_command(dry_run: bool) -> None:
    """Expire lapsed rooms, or hand them to a connected cohost, through the message queue (R44, R104)."""
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url and not dry_run:
        socket_server.use_external_emitter(redis_url)
    expired, handed = expiry.expire_rooms(dry_run=dry_run)
    click.echo(f"would expire {expired}" if dry_run else f"expired {expired}")
    if handed:
        click.echo(f"would hand over {handed}" if dry_run else f"handed over {handed}")


def init_app(app: Flask) -> None:
    """Register the commands with the app's CLI."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(expire_rooms_command)
