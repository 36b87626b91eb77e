"""help.txt: `espat --help` as click renders it at full width. Run this module after changing the group."""
from __future__ import annotations

import click.testing

from . import HELP_FILE, HELP_WIDTH
from .group import espat


def render() -> str:
    result = click.testing.CliRunner().invoke(espat, ["--help"], prog_name="espat", terminal_width=HELP_WIDTH)
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return result.output


if __name__ == "__main__":
    with open(HELP_FILE, "w", encoding="utf-8") as f:
        f.write(render())
