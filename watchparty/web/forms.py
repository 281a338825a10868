"""Session forms of the web pages (SPEC R91); field names match the API's."""

from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional

from watchparty.auth.schemas import PASSWORD_MIN_LENGTH, LoginBody, RegisterBody

REGISTER_MESSAGES = {
    "email": "Enter an email address like name@example.com.",
    "password": f"Use at least {PASSWORD_MIN_LENGTH} characters (at most 1024).",
    "display_name": "Use 1 to 40 characters, with no control or formatting characters.",
}


class BodyForm(FlaskForm):
    """A form whose rules are the API's pydantic body, so both answer the same (SPEC R13)."""

    body_model: type[BaseModel]
    messages: dict[str, str] = {}

    def validate(self, extra_validators=None) -> bool:
        """Check CSRF and the field validators, then the API's body rules; keep the parsed body."""
        valid = super().validate(extra_validators)
        data = {name: self[name].data for name in self.body_model.model_fields}
        try:
            self.body = self.body_model.model_validate(data)
        except ValidationError as exc:
            self._attach(exc)
            return False
        return valid

    def _attach(self, exc: ValidationError) -> None:
        """Show one message next to each field the API rules refused, unless it has one already."""
        for name in {str(item["loc"][0]) for item in exc.errors() if item["loc"]}:
            if not self[name].errors:
                self[name].errors.append(self.messages.get(name, "This value is not valid."))


class RegisterForm(BodyForm):
    body_model = RegisterBody
    messages = REGISTER_MESSAGES

    email = StringField("Email", validators=[InputRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[InputRequired("Choose a password.")])
    display_name = StringField("Display name", validators=[InputRequired("Choose a display name.")])


class LoginForm(BodyForm):
    body_model = LoginBody
    messages = {"email": "This email is too long.", "password": "This password is too long."}

    email = StringField("Email", validators=[InputRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST (SPEC R91)."""


class CreateRoomForm(FlaskForm):
    """Renders the "Create room" form posted to /rooms/new; the rooms API rules (R20, R74) decide."""

    title = StringField("Title (optional)", validators=[Optional(), Length(max=100)])
    is_private = BooleanField("Private: leave it out of the public list", render_kw={"value": "true"})
    media_provider = RadioField(
        "Video",
        choices=[
            SelectChoice("", "None for now"),
            SelectChoice("vidking", "Movie or TV show (vidking)"),
            SelectChoice("direct", "Video file URL"),
        ],
        default="",
        validate_choice=False,
    )
    media_type = SelectField(
        "Type", choices=[SelectChoice("movie", "Movie"), SelectChoice("tv", "TV show")], default="movie"
    )
    media_id = StringField("TMDB id", validators=[Optional(), Length(max=10)])
    media_season = IntegerField("Season (TV only)", validators=[Optional()])
    media_episode = IntegerField("Episode (TV only)", validators=[Optional()])
    media_url = StringField("Video URL (http or https)", validators=[Optional(), Length(max=2000)])
