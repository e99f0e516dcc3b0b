"""`nas dashboard`: registered through register_commands, its argument errors, and serving for real."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import click
import pytest
from click.testing import CliRunner

from nas_core.registry import get_registry
from nas_dashboard.cli import dashboard_command
from nas_dashboard.security import is_loopback


def test_registered_through_the_register_commands_hook():
    group = click.Group("nas")
    get_registry().pm.hook.register_commands(cli=group)
    assert group.commands["dashboard"] is dashboard_command


@pytest.mark.parametrize("args, message", [
    ([], "give one or more experiment folders"),
    (["does/not/exist"], "'does/not/exist' is not a folder"),
    (["{empty}"], "holds no experiment: neither"),
    (["{exp}", "--token", "short"], "a token must be at least 16 characters"),
    (["{exp}", "--port", "70000"], "70000 is not in the range 0<=x<=65535"),
])
def test_bad_arguments_say_what_to_give(args, message, tmp_path, gen_store):
    (tmp_path / "empty").mkdir()
    args = [a.format(empty=tmp_path / "empty", exp=gen_store) for a in args]
    result = CliRunner().invoke(dashboard_command, args)
    assert result.exit_code != 0 and message in result.output


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("127.3.0.1", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                            ("example.org", False)])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_off_loopback_the_printed_token_is_required(gen_store):
    """`nas dashboard DIR --host 0.0.0.0` prints a URL with a fresh token; requests without it get 401."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nas_core.cli.main", "dashboard", str(gen_store.parent),
                             "--host", "0.0.0.0", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        while not any("?token=" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        token = re.search(r"\?token=(\S+)", "".join(lines)).group(1)
        assert len(token) >= 24 and f"http://127.0.0.1:{port}/?token={token}" in proc.stdout.readline()
        assert "not loopback" in proc.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/api/experiments", timeout=5)
            except urllib.error.HTTPError as err:
                assert err.code == 401
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        req = urllib.request.Request(base + "/api/experiments", headers={"Authorization": f"Bearer {token}"})
        exps = json.loads(urllib.request.urlopen(req, timeout=5).read())
        assert [e["name"] for e in exps] == ["exp"] and exps[0]["trials"] == 240
    finally:
        proc.terminate()
        proc.wait(timeout=20)
