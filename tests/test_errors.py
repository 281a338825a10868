"""Failures of dependencies answer 503 JSON, never a 500 or a stack trace (R10)."""

from tests.support import TEST_JWT_SECRET_KEY, TEST_SECRET_KEY
from watchparty import create_app


def test_database_that_does_not_answer_is_503(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}",
            "SECRET_KEY": TEST_SECRET_KEY,
            "JWT_SECRET_KEY": TEST_JWT_SECRET_KEY,
            "ASYNC_MODE": "threading",
        }
    )
    response = app.test_client().get("/api/rooms/public/")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)
    page = app.test_client().get("/")
    assert page.status_code == 503
    assert "Traceback" not in page.get_data(as_text=True)
