"""Command line: ``python -m market.vietqr encode|decode``.

Exit status 0 on success, 2 for a bad payload or bad input (message on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from market.vietqr.errors import VietQRError
from market.vietqr.payload import build_payload, parse_payload

__all__ = ["main"]

EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m market.vietqr", description="Build or read NAPAS VietQR payloads."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    encode = commands.add_parser("encode", help="print the payload for a transfer")
    encode.add_argument("--bin", required=True, help="6-digit bank BIN, e.g. 970436")
    encode.add_argument("--account", required=True, help="account number (or card number)")
    encode.add_argument("--amount", help="whole dong, digits only; makes a dynamic code")
    encode.add_argument("--purpose", help="transfer note; Vietnamese is transliterated")
    encode.add_argument("--card", action="store_true", help="--account is a card number")
    encode.add_argument(
        "--lenient", action="store_true", help="allow unknown BINs and purposes over 25 chars"
    )
    encode.add_argument(
        "--truncate", action="store_true", help="cut a purpose over 25 chars instead of failing"
    )

    decode = commands.add_parser("decode", help="print a payload's fields as JSON")
    decode.add_argument("payload", help="the text read from the QR code")
    decode.add_argument(
        "--lenient", action="store_true", help="report tolerable problems as warnings"
    )
    return parser


def _amount(text: str | None) -> int | str | None:
    # Pass anything that is not plain digits through, so that the library's
    # error message quotes exactly what was typed.
    if text is not None and text.isascii() and text.isdigit():
        return int(text)
    return text


def _encode(args: argparse.Namespace) -> str:
    return build_payload(
        args.bin,
        args.account,
        amount=_amount(args.amount),  # type: ignore[arg-type]
        purpose=args.purpose,
        service="card" if args.card else "account",
        strict=not args.lenient,
        truncate=args.truncate,
    )


def _decode(args: argparse.Namespace) -> str:
    qr = parse_payload(args.payload, strict=not args.lenient)
    fields = dataclasses.asdict(qr)
    fields["warnings"] = list(qr.warnings)
    fields["extra"] = {path: value for path, value in qr.extra}
    bank = qr.bank
    fields["bank"] = None if bank is None else bank.short_name
    fields["bank_code"] = None if bank is None else bank.code
    fields["bank_name"] = None if bank is None else bank.name
    return json.dumps(fields, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = _encode(args) if args.command == "encode" else _decode(args)
    except VietQRError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
