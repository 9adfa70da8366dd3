"""``python -m neuroabm`` = the ``neuroabm`` command."""

from neuroabm.cli import main

main()
