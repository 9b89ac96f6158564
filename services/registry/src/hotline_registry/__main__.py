"""`python -m hotline_registry`: serve the registry."""

from hotline_common.web import serve
from hotline_registry.app import create_app
from hotline_registry.config import RegistrySettings


def main() -> None:
    settings = RegistrySettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
