"""``python -m skfusion``: the ``skfusion`` command; without a command it runs ``compare``.

So README's first command, ``python -m skfusion``, compares the fusion
strategies on the bundled digits with the default settings.
"""

import sys

from .cli import main


def _with_default_command(argv):
    """Put ``compare`` in front when no command is given (options may follow)."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        return ["compare", *argv]
    return argv


if __name__ == "__main__":
    sys.exit(main(_with_default_command(sys.argv[1:])))
