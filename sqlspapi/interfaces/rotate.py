"""``sqlspapi rotate-secret``: rotate the app's LWA client secret and store the new one where the old one was.

The connection gives ClientId/ClientSecret (no refresh token is needed: rotation is grantless) and
``RotationQueueUrl``; :func:`sqlspapi.http.rotation.rotate` does the work. The new secret goes where ClientSecret
came from (the connection's CredentialsFile, Profile or CredentialsSecret), or where ``--credentials-file PATH
[--account NAME]`` or ``--secret ARN`` says; when it came from the connection string or an environment variable the
command refuses before rotating. ``--receive-only`` only waits for the message of an earlier rotation and stores it.
Secrets are never printed. See ``docs/rotate-secret.md``.
"""

from __future__ import annotations

import os
from typing import Any

from sqlspapi.errors import InterfaceError

__all__ = ["add_arguments", "run_command"]


def add_arguments(parser: Any) -> None:
    """The options of ``sqlspapi rotate-secret`` on an argparse (sub)parser."""
    from sqlspapi.http.rotation import DEFAULT_WAIT

    parser.add_argument("connection_string", nargs="?", default=None, metavar="CONNSTR",
                        help="the app's connection (ClientId, ClientSecret's source, RotationQueueUrl); else "
                             "$SQLSPAPI_CONNECTION_STRING")
    parser.add_argument("--credentials-file", metavar="PATH", default=None,
                        help="store the new secret in this credentials file (default: where ClientSecret came from)")
    parser.add_argument("--account", metavar="NAME", default=None, help="the account of --credentials-file/--secret")
    parser.add_argument("--secret", metavar="ARN", default=None,
                        help="store the new secret in this AWS Secrets Manager secret")
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS",
                        help=f"how long to wait for the new secret on the queue (default {DEFAULT_WAIT:g})")
    parser.add_argument("--receive-only", action="store_true",
                        help="do not rotate: only receive the new secret of an earlier rotation and store it")
    parser.add_argument("--demo", action="store_true", help="the built-in emulator's app (its ClientSecret comes "
                        "from the connection, so give --credentials-file or --secret)")


def run_command(args: Any, out: Any, err: Any) -> int:
    """``sqlspapi rotate-secret``: find where the secret lives, rotate, receive, verify, store; print each step."""
    from sqlspapi.engine import resolve_settings
    from sqlspapi.http.rotation import rotate, secret_home
    from sqlspapi.settings.connstr import parse
    from sqlspapi.settings.secret_source import quiet_botocore_wire_logs

    quiet_botocore_wire_logs()  # --debug: boto3's wire logs would quote the secrets read, received and written
    if args.credentials_file is not None and args.secret is not None:
        raise InterfaceError("give --credentials-file or --secret, not both")
    text = args.connection_string
    if text is None and not args.demo:
        text = os.environ.get("SQLSPAPI_CONNECTION_STRING") or ""
    settings = resolve_settings(text, demo=True) if args.demo else parse(text or "", require_credentials=False)
    if not settings.client_id or not settings.client_secret:
        raise InterfaceError("rotate-secret needs the app's ClientId and ClientSecret (CredentialsFile/Profile, "
                             "CredentialsSecret, the connection string, or LWA_APP_ID/LWA_CLIENT_SECRET)")
    for notice in settings.notices:
        print(f"notice: {notice}", file=err)
    home = secret_home(settings, credentials_file=args.credentials_file, account=args.account,
                       secret_id=args.secret)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    done = rotate(settings, home, wait=args.wait, receive_only=args.receive_only, say=say)
    if done.old_expiry:
        say(f"The old client secret works until {done.old_expiry}; the new one expires {done.expiry}.")
    return 0
