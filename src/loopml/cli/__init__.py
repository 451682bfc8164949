"""The ``loopml`` command line: thin Typer commands over the layers below."""
