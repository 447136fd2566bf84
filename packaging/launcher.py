"""Entry point of the PyInstaller build: the same ``main`` as the ``flowdesk`` console script."""

from flowdesk.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
