"""The llm engine's parts: settings, prompts, the model client, its cache and token counts."""
