"""``photoid users list|password|deactivate|activate|end-sessions|tokens|revoke-token``
through the real CLI: each takes effect on the catalog at once."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from typer.testing import CliRunner

from photoid.catalog import add_user, create_token, open_catalog, verify_password, verify_token
from photoid.catalog.sessions import session_user, start_session
from photoid.cli.app import app


def test_users_commands_manage_credentials(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path / "data")]
    with closing(open_catalog(tmp_path / "data")) as catalog:
        ana = add_user(catalog, "ana", "reviewer", "12345678")
        add_user(catalog, "bob", "viewer", "12345678")
        sessions = [start_session(catalog, ana.id) for _ in range(2)]
        token = create_token(catalog, "ana", label="laptop")
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(app, ["users", *args, *data], input=input)
        assert result.exit_code == 0, result.output
        return result.output

    assert run("list").splitlines() == ["ana\treviewer\tactive", "bob\tviewer\tactive"]
    (line,) = run("tokens", "ana").splitlines()
    token_id, label, *_times, revoked = line.split("\t")
    assert (label, revoked) == ("laptop", "-")
    assert "Ended 2 browser session(s) of ana" in run("end-sessions", "ana")
    with closing(open_catalog(tmp_path / "data")) as catalog:
        again = start_session(catalog, ana.id)
    assert "ended 1 browser session(s)" in run("password", "ana", input="new-secret\nnew-secret\n")
    assert "Revoked API token" in run("revoke-token", token_id)
    assert "Deactivated bob; ended 0 browser session(s) and revoked 0 API token(s)" in run(
        "deactivate", "bob"
    )
    assert run("list").splitlines()[1] == "bob\tviewer\tdeactivated"
    assert "Activated bob" in run("activate", "bob")
    with closing(open_catalog(tmp_path / "data")) as catalog:
        assert all(session_user(catalog, s) is None for s in (*sessions, again))
        assert verify_password(catalog, "ana", "new-secret") is not None
        assert verify_token(catalog, token) is None
        assert verify_password(catalog, "bob", "12345678") is not None
    missing = runner.invoke(app, ["users", "deactivate", "nobody", *data])
    assert missing.exit_code == 2
    assert "no user named 'nobody'" in missing.output
    twice = runner.invoke(app, ["users", "revoke-token", token_id, *data])
    assert twice.exit_code == 2
    assert f"no live API token with id {token_id}" in twice.output
