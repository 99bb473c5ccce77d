"""The producer Lambda: X API v2 trends and searches (or the replay dataset) into Kinesis."""
