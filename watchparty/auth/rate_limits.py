"""Failed-login limits shared by the API and the login form (SPEC R14)."""

from flask import current_app, request

from watchparty.auth.models import email_key
from watchparty.domain_errors import DomainError
from watchparty.extensions import limiter
from watchparty.validation import request_data

# The form's limit shares the API's bucket, which is scoped by its endpoint name.
LOGIN_SCOPE = "auth.login"


def login_limit_key() -> str:
    """Failed logins are counted per client address and email (SPEC R14)."""
    try:
        email = str(request_data().get("email", ""))[:254]
    except DomainError:  # a body that is not JSON: count it under no email
        email = ""
    return f"login:{request.remote_addr}:{email_key(email)}"


def login_limit() -> str:
    """The configured limit, e.g. "10 per minute"."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_failed(response) -> bool:
    """Only a refused login counts against the limit."""
    return response.status_code == 401


# The form's registrations share the API's bucket (SPEC R172).
REGISTER_SCOPE = "auth.register"


def register_limit() -> str:
    """The configured limit on registrations, e.g. "10 per hour"."""
    return current_app.config["REGISTER_RATE_LIMIT"]


def register_limit_key() -> str:
    """Registrations are counted per client address, API and form together, every attempt (R172)."""
    return f"register:{request.remote_addr}"


def limit_failed_logins(**options):
    """Decorate a login view with the failed-login limit; the API and the form share one bucket (R14)."""
    return limiter.shared_limit(
        login_limit, scope=LOGIN_SCOPE, key_func=login_limit_key, deduct_when=login_failed, **options
    )


def limit_registrations(**options):
    """Decorate a registration view with the registration limit, one bucket for API and form (R172)."""
    return limiter.shared_limit(register_limit, scope=REGISTER_SCOPE, key_func=register_limit_key, **options)
