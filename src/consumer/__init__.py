"""Kinesis → DynamoDB consumer Lambda: tweet items plus exactly-once per-minute topic stats."""
