"""``python -m photoid``: the ``photoid`` command."""

from photoid.cli.app import main

if __name__ == "__main__":
    main()
