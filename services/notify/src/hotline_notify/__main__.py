"""`python -m hotline_notify`: serve notify."""

from hotline_common.web import serve
from hotline_notify.app import create_app
from hotline_notify.config import NotifySettings


def main() -> None:
    settings = NotifySettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
