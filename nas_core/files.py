"""Reading the text files a user points at (configs, architecture JSON), with one-line errors."""
from __future__ import annotations

import os
from pathlib import Path

from nas_core.errors import ConfigError, NasError

__all__ = ["read_text_file"]


def read_text_file(path: str | os.PathLike, what: str, expected: str,
                   error: type[NasError] = ConfigError) -> str:
    """The UTF-8 text of ``path``; a directory, an unreadable file, binary data or another encoding is an ``error``.

    ``what`` names the file in the message ("config file"), ``expected`` says what it should
    hold ("a TOML or YAML experiment configuration").
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {str(path)!r} is a directory; give the path of {expected}.")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} does not exist.") from None
    except OSError as err:
        raise error(f"{what} {str(path)!r} cannot be read ({err.strerror or err}); check its permissions.") from None
    if b"\x00" in data[:8192]:
        raise error(f"{what} {str(path)!r} is binary data, not text; give the path of {expected}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise error(
            f"{what} {str(path)!r} is not UTF-8 text (byte 0x{data[err.start]:02x} at line {line}); save it as "
            f"UTF-8 ({expected})."
        ) from None
