"""``python -m exoactor``: the same command-line interface as ``exoactor``."""

from exoactor.cli import main

if __name__ == "__main__":
    main()
