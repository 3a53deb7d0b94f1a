"""`python -m infra.agent_package [--upload] [OUT]`: the agent program as one zipapp file.

The archive holds the `agent` package and the message contracts it shares with the API
(`chalicelib/contracts`), so both sides use one definition. `--upload` publishes it to the
platform bucket under `settings.agent_package_key()`, where install scripts and agent updates
fetch it through expiring URLs. The local stack publishes it at start-up.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("agent", "chalicelib/contracts")
MAIN = "import sys\nfrom agent.__main__ import main\nsys.exit(main())\n"


def build() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py", MAIN)
        archive.write(ROOT / "chalicelib" / "__init__.py", "chalicelib/__init__.py")
        for source in SOURCES:
            for path in sorted((ROOT / source).rglob("*.py")):
                archive.write(path, path.relative_to(ROOT).as_posix())
    return buffer.getvalue()


def publish() -> str:
    """Uploads the freshly built agent; returns its key in the bucket."""
    from chalicelib import settings
    from chalicelib.adapters import s3

    key = settings.agent_package_key()
    s3.put(key, build(), "application/zip")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, help="write the zipapp here")
    parser.add_argument("--upload", action="store_true", help="publish it to the platform bucket")
    args = parser.parse_args(argv)
    if args.out:
        args.out.write_bytes(build())
        print(f"wrote {args.out}")
    if args.upload:
        print(f"published s3://…/{publish()}")
    if not (args.out or args.upload):
        parser.error("give OUT and/or --upload")
    return 0


if __name__ == "__main__":
    sys.exit(main())
