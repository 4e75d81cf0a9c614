"""Keys for the hosted backends: from the environment, or a TOML file outside the repository.

Lookup order for a key named ``NAME`` (e.g. ``OPENAI_API_KEY``):

1. the environment variable ``NAME``;
2. ``NAME = "..."`` at the top level of the secrets file: ``$EXOACTOR_SECRETS`` if set, else
   ``~/.config/exoactor/secrets.toml``.

Backend configs hold only the *name* of the variable, so the run manifest (which records the
resolved config) never contains a key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from exoactor.imagine.errors import MissingSecret

SECRETS_ENV = "EXOACTOR_SECRETS"
"""Environment variable naming the secrets file."""
DEFAULT_SECRETS = Path("~/.config/exoactor/secrets.toml")
"""Secrets file used when ``EXOACTOR_SECRETS`` is unset."""

MISSING = ("{what}: no key: set the environment variable {name}, or put {name} = \"...\" in "
           "{file} (a file outside the repository; never commit keys)")


def secrets_file() -> Path:
    """The secrets file in use (it may not exist)."""
    return Path(os.environ.get(SECRETS_ENV) or DEFAULT_SECRETS).expanduser()


def get_secret(name: str, what: str) -> str:
    """The value of key ``name`` for backend ``what``.

    Raises:
        MissingSecret: neither the environment nor the secrets file has it.
    """
    value = os.environ.get(name)
    if value:
        return value
    path = secrets_file()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise MissingSecret(f"{path}: not valid TOML ({exc}); fix the file or set {name} "
                                "in the environment") from None
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    raise MissingSecret(MISSING.format(what=what, name=name, file=path))
