"""Write .env for docker-compose from .env.example, once: every empty
password gets a random one (192 bits, hex). An existing .env is kept.

Usage: python3 deploy/make_env.py [EXAMPLE] [TARGET]   (from `make up`)
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def filled(example: str) -> str:
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            if value == "":
                value = secrets.token_hex(24)
            elif value.endswith(":"):  # user:password with the password to make
                value += secrets.token_hex(24)
            line = f"{name}={value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> None:
    example = Path(sys.argv[1] if len(sys.argv) > 1 else ".env.example")
    target = Path(sys.argv[2] if len(sys.argv) > 2 else ".env")
    if target.exists():
        print(f"{target} exists: kept")
        return
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(filled(example.read_text()))
    print(f"{target} written with generated passwords (mode 600)")


if __name__ == "__main__":
    main()
