"""The llm engine's prompt templates, `<id>.<zh|en>.j2` (see the loader, transfer_cli/llm/prompts.py).

Installed as the package `transfer_cli.prompts`, so that the files are found through
importlib.resources wherever transfer runs; this file only makes that package importable.
"""
