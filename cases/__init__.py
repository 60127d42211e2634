"""The bundled case library: one `<id>.yaml` or `<id>/` folder per place (docs/place-format.md).

Installed as the package `transfer_cli.cases`, so that the files are found through
importlib.resources wherever transfer runs; this file only makes that package importable.
"""
