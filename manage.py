#!/usr/bin/env python3
import os
import sys

if sys.version_info < (3, 12):  # noqa: UP036 - the point is to say so on an older Python
    sys.exit(
        f"Python 3.12 or newer is needed (this is {sys.version.split()[0]}). "
        "Install it (e.g. `pyenv install 3.13` or `apt-get install python3.13`) and use `make run`."
    )


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
