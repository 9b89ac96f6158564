import typer

app = typer.Typer(help="1300 hotline ops")
