"""`python -m hotline_routing`: serve routing."""

from hotline_common.web import serve
from hotline_routing.app import create_app
from hotline_routing.config import RoutingSettings


def main() -> None:
    settings = RoutingSettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
