"""`python -m hotline_watchdog`: serve the watchdog."""

from hotline_common.web import serve
from hotline_watchdog.app import create_app
from hotline_watchdog.config import WatchdogSettings


def main() -> None:
    settings = WatchdogSettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
