"""Many pairs at once: the plan, the resumable runner, its rate limits, the comparison, progress."""
