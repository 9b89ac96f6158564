"""`python -m hotline_intake`: serve intake; `python -m hotline_intake rotate-pii`: re-seal personal data under
the newest PII key (see PII_ENCRYPTION_KEY)."""

import argparse

from hotline_common.crypto import PiiVault
from hotline_common.web import serve
from hotline_intake import rotation
from hotline_intake.app import create_app
from hotline_intake.config import IntakeSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="hotline-intake")
    parser.add_argument("command", nargs="?", choices=["serve", "rotate-pii"], default="serve")
    command = parser.parse_args().command
    settings = IntakeSettings()
    if command == "rotate-pii":
        rotation.main(settings.database_url, PiiVault(settings.pii_encryption_key.get_secret_value(),
                                                      settings.pii_lookup_key.get_secret_value()))
        return
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
