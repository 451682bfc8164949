"""``python -m loopml`` runs the CLI."""

from loopml.cli.app import main

main()
