"""``rh-sandbox``: run the test double and print a ready Airflow connection.

Every option can also come from an environment variable ``RH_SANDBOX_<OPTION>`` (e.g.
``RH_SANDBOX_PORT=0``, ``RH_SANDBOX_RATE_LIMIT_SHARE=0.1``); a flag on the command line wins.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from airflow_provider_rh.sandbox.config import (
    DEFAULT_EPOCH,
    DEFAULT_PORT,
    SUBSCRIPTION_KEY_HEADER,
    Faults,
    SandboxConfig,
    default_state_dir,
)
from airflow_provider_rh.sandbox.server import Sandbox

ENV_PREFIX = "RH_SANDBOX_"
DESCRIPTION = (
    "Run a local test double of Region Halland's AD FS token server and API gateway, with a sample "
    "hsainfo API, and print a ready Airflow connection. Every option can also be set with the "
    "environment variable shown with it; a flag on the command line wins."
)
EPILOG = (
    "Serves /adfs/.well-known/openid-configuration, /adfs/discovery/keys, POST /adfs/oauth2/token/ and "
    "/hsainfo/v1/{health,units,units/link,units/cursor,units/offset,units/pages,units/odata,units/ID}. "
    "The first start makes a client certificate, client id and subscriber key in the state folder; "
    "later starts reuse them. The sample data, page sizes and every endpoint: docs/sandbox.md."
)
BANNER = (
    "rh-sandbox: a TEST DOUBLE of Region Halland's AD FS and API gateway, with made-up data and "
    "throwaway keys. It is not the real service; never give it real credentials."
)


def _utc(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (Z or +00:00)")
    return value


def _statuses(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


_Option = tuple[str, Any, Callable[[str], Any], str]
_OPTIONS: dict[str, list[_Option]] = {
    "server": [
        ("--host", "127.0.0.1", str, "address to listen on; anything but loopback exposes the test double"),
        ("--port", DEFAULT_PORT, int, "port for everything (AD FS, gateway, API); 0 picks a free one"),
        ("--public-url", None, str, "scheme://host:port clients use, if not http://HOST:PORT"),
        ("--state-dir", None, Path, "folder for the client identity and connection.json"),
        ("--log-level", "info", str, "uvicorn log level"),
    ],
    "data and tokens": [
        ("--unit-count", 10_000, int, "number of records in the sample API"),
        (
            "--epoch",
            DEFAULT_EPOCH.isoformat(),
            _utc,
            "time origin of the data: ids run 1..unit-count and record id i has 'updated' = epoch + "
            "i * step, so the first record is one step after the epoch (docs/sandbox.md)",
        ),
        ("--step-seconds", 300, int, "seconds between consecutive records' 'updated'"),
        ("--token-lifetime", 3600, int, "access token lifetime in seconds (short ones expire mid-run)"),
        ("--clock-skew", 60.0, float, "seconds of clock tolerance on client assertions"),
        ("--subscription-key-header", SUBSCRIPTION_KEY_HEADER, str, "header carrying the subscriber key"),
    ],
    "faults (seeded; with concurrent requests the order may vary)": [
        ("--seed", 0, int, "seed for every fault's random sequence"),
        ("--latency-ms", 0, int, "delay before every API response"),
        ("--rate-limit-share", 0.0, float, "share of API responses answered 429 with Retry-After"),
        ("--retry-after", 1, int, "seconds in Retry-After of a 429"),
        ("--server-error-share", 0.0, float, "share of API responses answered with a 5xx"),
        ("--server-error-statuses", "500,502,503,504", _statuses, "5xx statuses to pick from"),
        ("--drop-share", 0.0, float, "share of API responses whose connection drops mid-body"),
        ("--token-outage-seconds", 0.0, float, "token endpoint answers 503 for this long after start"),
        ("--token-outage-requests", 0, int, "token endpoint answers 503 to this many first requests"),
    ],
}


def build_parser(environ: Mapping[str, str] = os.environ) -> argparse.ArgumentParser:
    """The CLI; defaults come from ``environ`` (``RH_SANDBOX_*``) before the built-in ones."""
    parser = argparse.ArgumentParser(
        prog="rh-sandbox",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for title, options in _OPTIONS.items():
        group = parser.add_argument_group(title)
        for flag, default, type_, help_ in options:
            env = ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()
            if flag == "--state-dir":
                default = str(default_state_dir())
            # argparse runs ``type`` on string defaults, so env values are parsed like flags.
            group.add_argument(
                flag, default=environ.get(env, default), type=type_, help=f"{help_} [env {env}]"
            )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=_env_bool(environ, "ACCESS_LOG", True),
        help=f"log every request [env {ENV_PREFIX}ACCESS_LOG]",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The :class:`SandboxConfig` a parsed command line asks for."""
    return SandboxConfig(
        state_dir=args.state_dir,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        unit_count=args.unit_count,
        epoch=args.epoch,
        step=dt.timedelta(seconds=args.step_seconds),
        token_lifetime=args.token_lifetime,
        clock_skew=args.clock_skew,
        subscription_key_header=args.subscription_key_header,
        log_level=args.log_level,
        access_log=args.access_log,
        uvicorn_logging=True,
        faults=Faults(
            seed=args.seed,
            latency_ms=args.latency_ms,
            rate_limit_share=args.rate_limit_share,
            retry_after=args.retry_after,
            server_error_share=args.server_error_share,
            server_error_statuses=args.server_error_statuses,
            drop_share=args.drop_share,
            token_outage_seconds=args.token_outage_seconds,
            token_outage_requests=args.token_outage_requests,
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start the sandbox, print the connection, serve until SIGINT/SIGTERM."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    print(BANNER, flush=True)
    try:
        sandbox = Sandbox(config)
    except OSError as exc:
        parser.exit(1, f"rh-sandbox: cannot listen on {config.host}:{config.port}: {exc}\n")
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"rh-sandbox: WARNING listening on {args.host}, beyond loopback", flush=True)
    verb = "created a new" if sandbox.identity.created else "reusing the"
    print(f"rh-sandbox: state folder {config.state_dir} ({verb} client identity)", flush=True)
    print(f"rh-sandbox: connection written to {sandbox.connection_path}", flush=True)
    if config.faults != Faults(seed=config.faults.seed):
        print(f"rh-sandbox: faults {config.faults}", flush=True)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with sandbox:
        print(sandbox.connection_env_line(), flush=True)
        print(f"rh-sandbox ready on {sandbox.url}", flush=True)
        while sandbox.running and not stop.wait(0.5):
            pass
    return 0


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(ENV_PREFIX + name)
    return default if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


if __name__ == "__main__":
    sys.exit(main())
