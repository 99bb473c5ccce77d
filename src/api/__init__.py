"""Read API Lambda: topics, per-minute series and recent tweets from EventData; the live page."""
