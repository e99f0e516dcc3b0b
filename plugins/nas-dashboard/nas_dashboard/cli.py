"""``nas dashboard [DIR ...]``: serve experiment folders on a local web page."""
from __future__ import annotations

import click

from nas_core.errors import NasError

from nas_dashboard.security import is_loopback, new_token


@click.command("dashboard")
@click.argument("dirs", nargs=-1, type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback requires a token (printed, or --token).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--token", default=None, help="Access token (default: none on loopback, a random one elsewhere).")
def dashboard_command(dirs: tuple[str, ...], host: str, port: int, token: str | None) -> None:
    """Watch experiments live in a browser: DIR is an experiment folder or a folder of them.

    The stores are opened read-only, so this works while `nas search` runs, on a finished
    experiment and on a read-only copy. Stop with Ctrl+C.
    """
    import uvicorn

    from nas_dashboard.app import create_app
    from nas_dashboard.folders import find_experiments

    if not dirs:
        raise click.UsageError("give one or more experiment folders: `nas dashboard runs/digits` "
                               "(or the folder that holds several).")
    try:
        workdirs = find_experiments(dirs)
        if token is not None and len(token) < 16:
            raise click.BadParameter("a token must be at least 16 characters long; omit --token to get a random one.",
                                     param_hint="--token")
        if token is None and not is_loopback(host):
            token = new_token()
        app = create_app(workdirs, token=token, host=host)
    except NasError as err:
        raise click.ClickException(str(err)) from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"nas dashboard: {len(workdirs)} experiment(s): " + ", ".join(str(w) for w in workdirs))
    click.echo(f"open {url}")
    if host in ("0.0.0.0", "::"):
        click.echo(f"(all interfaces: from this machine http://127.0.0.1:{port}/?token={token}, from others use "
                   "this machine's name or address)")
    if not is_loopback(host):
        click.echo(f"listening on {host} (not loopback): every request needs the token above.")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port} ({err}); pick another --port.") from None
    if not server.started:
        raise click.ClickException(f"cannot listen on {host}:{port} (in use, or not an address of this machine); "
                                   "pick another --port or --host.")
