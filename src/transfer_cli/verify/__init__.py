"""The verifier: checks a memo's artifacts against the place files they came from."""
