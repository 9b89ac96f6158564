"""`python -m hotline_intake`: serve intake."""

from hotline_common.web import serve
from hotline_intake.app import create_app
from hotline_intake.config import IntakeSettings


def main() -> None:
    settings = IntakeSettings()
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
