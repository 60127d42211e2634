"""Places: the schema every source and target follows, its vocabulary, the loader, the
support-factor condition language, and the skeleton for a new place."""
