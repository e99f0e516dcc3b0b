"""``nas device-agent``: run the measurement agent on the target device."""
from __future__ import annotations

import logging
import os

import click

from nas_profiler_device.errors import DeviceAgentError


@click.command("device-agent")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free).")
@click.option("--token", envvar="NAS_DEVICE_TOKEN", default=None,
              help="Shared secret clients must send (or set NAS_DEVICE_TOKEN). At least 8 characters.")
@click.option("--allow-remote", is_flag=True, help="Allow listening on a non-loopback address such as 0.0.0.0.")
@click.option("--max-request-mb", default=64.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Largest request accepted (the base64 ONNX model), in MiB.")
@click.option("--timeout", "socket_timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds a client may take to send its whole request (headers and body).")
@click.option("--max-measure-s", default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Longest a measurement may take: its timing stops early (after 3 runs) at half this time, and "
                   "at this time its process is killed and the client gets HTTP 408.")
def device_agent_command(host: str, port: int, token: str | None, allow_remote: bool, max_request_mb: float,
                         socket_timeout: float, max_measure_s: float) -> None:
    """Measure the latency of ONNX models sent over HTTP (run this on the target device)."""
    from nas_profiler_device.agent_server import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not token:
        raise click.UsageError("--token is required (or set NAS_DEVICE_TOKEN); generate one with "
                               "python -c 'import secrets; print(secrets.token_urlsafe(24))'.")
    try:
        server = make_server(host, port, token, allow_remote=allow_remote,
                             max_request_bytes=int(max_request_mb * 1024 * 1024), socket_timeout=socket_timeout,
                             max_time_s=max_measure_s)
    except DeviceAgentError as err:
        raise click.UsageError(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port} ({err}); pick another --port.") from None
    click.echo(f"nas device agent on {server.url} ({server.info()['device']}); pid {os.getpid()}. Ctrl-C stops it.",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
