"""`python -m hotline_cli`: the same as the `hotline` command."""

from hotline_cli.main import app

app(prog_name="hotline")
