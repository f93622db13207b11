"""``keyfob`` (also ``python -m keyfob``): look at tokens and manage sessions from a shell.

    keyfob decode TOKEN               header and claims, NOT checked (no key needed)
    keyfob verify TOKEN               check the token (signature, claims, session) and print
                                      its claims; --signature-only checks no session
    keyfob sessions USER              the user's live sessions (--json for JSON)
    keyfob revoke-session SESSION_ID  end one session
    keyfob revoke-user USER           end all the user's sessions (--keep SESSION_ID spares one)

Every command but ``decode`` builds an engine, configured by (later ones win):

1. ``--config FILE`` (or ``KEYFOB_CONFIG``): a JSON object of engine settings, as the C
   interface and ``keyfob.Engine(**config)`` take them, plus ``signing_key`` or
   ``signing_key_file``;
2. the environment: ``KEYFOB_SIGNING_KEY`` or ``KEYFOB_SIGNING_KEY_FILE``,
   ``KEYFOB_ALGORITHM``, ``KEYFOB_KEY_ID``, ``KEYFOB_STORE``, ``KEYFOB_STORE_PREFIX``,
   ``KEYFOB_STORE_TIMEOUT_MS``;

or, with ``--django``, by the Django project's ``settings.KEYFOB`` (``DJANGO_SETTINGS_MODULE``,
run from the project's directory): the very engine the server builds.

Sessions live in the server's store, so every command but ``decode`` and
``verify --signature-only`` needs the shared store (``KEYFOB_STORE=redis://...``); with the
memory store they say so and stop. Output goes to stdout; an error is one line on stderr,
``keyfob: <what went wrong>``, with exit status 1 (2 for a usage error). A refused token
exits with 1 too, naming the reason (``keyfob: token refused: expired: ...``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn, TextIO

import keyfob

PROG = "keyfob"

# Environment variable -> engine setting, and how to read its value.
ENVIRONMENT: dict[str, tuple[str, type]] = {
    "KEYFOB_ALGORITHM": ("algorithm", str),
    "KEYFOB_KEY_ID": ("key_id", str),
    "KEYFOB_STORE": ("store", str),
    "KEYFOB_STORE_PREFIX": ("store_prefix", str),
    "KEYFOB_STORE_TIMEOUT_MS": ("store_timeout_ms", int),
}


class CliError(Exception):
    """An error to report as one line (exit status 1)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: {message} (see {PROG} --help)\n")


# -- reading tokens and settings -------------------------------------------------------------


def token_argument(value: str) -> str:
    """A token from the command line; ``-`` reads it from stdin."""
    if value == "-":
        value = sys.stdin.read()
    token = value.strip()
    if not token:
        raise CliError("no token given")
    return token


def b64url_json(part: str, what: str) -> dict[str, Any]:
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise CliError(f"malformed token: its {what} is not base64url JSON") from e
    if not isinstance(value, dict):
        raise CliError(f"malformed token: its {what} is not a JSON object")
    return value


def decode(token: str) -> dict[str, Any]:
    """A token's header and claims, read without checking anything."""
    parts = token.split(".")
    if len(parts) != 3:
        raise CliError(f"malformed token: {len(parts)} dot-separated parts, a JWT has 3")
    return {"header": b64url_json(parts[0], "header"), "claims": b64url_json(parts[1], "payload")}


def read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise CliError(f"cannot read {what} {path}: {reason}") from e


def engine_settings(config_path: str | None, environ: dict[str, str]) -> dict[str, Any]:
    """The engine's settings from the config file and the environment (the key included)."""
    settings: dict[str, Any] = {}
    config_path = config_path or environ.get("KEYFOB_CONFIG") or None
    if config_path:
        try:
            loaded = json.loads(read_text(config_path, "config file"))
        except json.JSONDecodeError as e:
            raise CliError(f"config file {config_path} is not JSON: {e}") from e
        if not isinstance(loaded, dict):
            raise CliError(f"config file {config_path} must hold a JSON object")
        settings.update(loaded)
    key_file = settings.pop("signing_key_file", None)
    if key_file is not None:
        settings["signing_key"] = read_text(str(key_file), "signing key file")
    if environ.get("KEYFOB_SIGNING_KEY_FILE"):
        settings["signing_key"] = read_text(environ["KEYFOB_SIGNING_KEY_FILE"], "signing key file")
    elif environ.get("KEYFOB_SIGNING_KEY"):
        settings["signing_key"] = environ["KEYFOB_SIGNING_KEY"]
    for variable, (name, kind) in ENVIRONMENT.items():
        value = environ.get(variable)
        if value:
            try:
                settings[name] = kind(value)
            except ValueError as e:
                raise CliError(f"{variable} must be {kind.__name__}, not {value!r}") from e
    if not settings.get("signing_key"):
        raise CliError(
            "no signing key: set KEYFOB_SIGNING_KEY or KEYFOB_SIGNING_KEY_FILE, "
            "or give --config FILE (or --django)"
        )
    return settings


def build_engine(settings: dict[str, Any]) -> keyfob.Engine:
    kwargs = dict(settings)
    key = kwargs.pop("signing_key")
    try:
        return keyfob.Engine(key, **kwargs)
    except TypeError as e:
        raise CliError(f"bad setting: {e}") from e


def django_engine() -> tuple[keyfob.Engine, str]:
    """The engine of the Django project named by ``DJANGO_SETTINGS_MODULE``, and its store."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise CliError("--django needs DJANGO_SETTINGS_MODULE (run from the project directory)")
    sys.path.insert(0, os.getcwd())
    try:
        import django
        from django.core.exceptions import ImproperlyConfigured
    except ImportError as e:
        raise CliError("--django needs Django installed") from e
    try:
        django.setup()
        from keyfob.drf.engine import engine_arguments, get_engine

        return get_engine(), str(engine_arguments().get("store", "memory"))
    except ImproperlyConfigured as e:
        raise CliError(f"Django settings: {e}") from e
    except ImportError as e:
        raise CliError(f"cannot load the Django project: {e}") from e


class Context:
    """What the commands share: the parsed arguments and, built on first use, the engine."""

    def __init__(self, args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> None:
        self.args = args
        self.environ = environ
        self.out = out
        self._engine: keyfob.Engine | None = None
        self.store = "memory"

    def engine(self, *, needs_store: bool = True) -> keyfob.Engine:
        if self._engine is None:
            if self.args.django:
                self._engine, self.store = django_engine()
            else:
                settings = engine_settings(self.args.config, self.environ)
                self.store = str(settings.get("store", "memory"))
                self._engine = build_engine(settings)
        if needs_store and self.store == "memory":
            raise CliError(
                "sessions live in the server's store, and this engine has the memory store: "
                "set KEYFOB_STORE (e.g. redis://host:6379/0) as the server has it"
            )
        return self._engine

    def print_json(self, value: Any) -> None:
        json.dump(value, self.out, indent=2, sort_keys=True)
        self.out.write("\n")


# -- the commands ----------------------------------------------------------------------------


def cmd_decode(ctx: Context) -> int:
    ctx.print_json(decode(token_argument(ctx.args.token)))
    return 0


def cmd_verify(ctx: Context) -> int:
    token = token_argument(ctx.args.token)
    if ctx.args.signature_only:
        payload = ctx.engine(needs_store=False).verify_signature(token)
        try:
            claims = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as e:
            raise CliError("malformed token: its payload is not JSON") from e
    else:
        claims = dict(ctx.engine().verify(token))
    ctx.print_json(claims)
    return 0


def when(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "-"
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def cmd_sessions(ctx: Context) -> int:
    found = [dict(info) for info in ctx.engine().sessions(ctx.args.user)]
    if ctx.args.json:
        ctx.print_json(found)
        return 0
    if not found:
        ctx.out.write(f"no live sessions for user {ctx.args.user}\n")
        return 0
    rows = [("SESSION", "CREATED", "LAST SEEN", "IP", "DEVICE")]
    for info in found:
        device = info.get("label") or info.get("user_agent") or "-"
        rows.append(
            (
                str(info["session_id"]),
                when(info.get("created_at")),
                when(info.get("last_seen")),
                str(info.get("ip") or "-"),
                str(device),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        ctx.out.write("  ".join([*cells, row[4]]) + "\n")
    return 0


def cmd_revoke_session(ctx: Context) -> int:
    session_id = ctx.args.session_id
    if ctx.engine().revoke_session(session_id):
        ctx.out.write(f"revoked session {session_id}\n")
    else:
        ctx.out.write(f"session {session_id} had already ended\n")
    return 0


def cmd_revoke_user(ctx: Context) -> int:
    user, keep = ctx.args.user, ctx.args.keep
    revoked = ctx.engine().revoke_user(user, keep=keep)
    plural = "" if revoked == 1 else "s"
    spared = f" (kept {keep})" if keep else ""
    ctx.out.write(f"revoked {revoked} session{plural} of user {user}{spared}\n")
    return 0


def parser() -> Parser:
    top = Parser(
        prog=PROG,
        description="Look at keyfob tokens and manage sessions. Settings come from --config, "
        "the KEYFOB_* environment variables, or --django.",
    )
    top.add_argument("--config", metavar="FILE", help="JSON engine settings (KEYFOB_CONFIG)")
    top.add_argument(
        "--django",
        action="store_true",
        help="use the Django project's settings.KEYFOB (DJANGO_SETTINGS_MODULE)",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {keyfob.__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub = commands.add_parser("decode", help="show a token's header and claims, NOT checked")
    sub.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    sub.set_defaults(run=cmd_decode)

    sub = commands.add_parser("verify", help="check a token and show its claims")
    sub.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    sub.add_argument(
        "--signature-only",
        action="store_true",
        help="check the signature with the key only (no claims, no session, no store)",
    )
    sub.set_defaults(run=cmd_verify)

    sub = commands.add_parser("sessions", help="list a user's live sessions, newest first")
    sub.add_argument("user", metavar="USER", help="the user id, as tokens carry it")
    sub.add_argument("--json", action="store_true", help="print them as JSON")
    sub.set_defaults(run=cmd_sessions)

    sub = commands.add_parser("revoke-session", help="end one session")
    sub.add_argument("session_id", metavar="SESSION_ID")
    sub.set_defaults(run=cmd_revoke_session)

    sub = commands.add_parser("revoke-user", help="end all of a user's sessions")
    sub.add_argument("user", metavar="USER")
    sub.add_argument("--keep", metavar="SESSION_ID", help="the one session to leave alive")
    sub.set_defaults(run=cmd_revoke_user)
    return top


def describe_error(error: BaseException) -> str:
    """The one line an error is reported as."""
    if isinstance(error, keyfob.InvalidTokenError):
        text = f"token refused: {error.name}: {error}"
    elif isinstance(error, keyfob.KeyfobError):
        text = f"{error.name}: {error}"
    elif isinstance(error, CliError):
        text = str(error)
    else:
        text = f"unexpected error: {type(error).__name__}: {error}"
    return " ".join(text.split())


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: dict[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; returns the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = parser().parse_args(argv)
    ctx = Context(args, dict(os.environ) if environ is None else environ, out)
    try:
        status: int = args.run(ctx)
        out.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`keyfob sessions 42 | head -1`): stop quietly, without
        # Python complaining about the unflushed output on exit.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # every failure is one line, never a traceback
        err.write(f"{PROG}: {describe_error(e)}\n")
        return 1
    return status


def run() -> NoReturn:
    """The console script's entry point."""
    sys.exit(main())
