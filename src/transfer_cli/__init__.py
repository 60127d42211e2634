"""transfer: evidence-grounded policy-transfer analysis.

The core (schema, loader, stages, engines, verifier, renderers, batch) works as a library
without typer or rich; cli.py is a thin layer over it.
"""

__version__ = "0.1.0"
