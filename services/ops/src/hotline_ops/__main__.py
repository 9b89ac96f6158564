"""`python -m hotline_ops`: serve the ops console."""

from hotline_common.web import serve
from hotline_ops.app import create_app
from hotline_ops.config import OpsSettings


def main() -> None:
    settings = OpsSettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
