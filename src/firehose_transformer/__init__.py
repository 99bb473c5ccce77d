"""Firehose transformation Lambda: stream records → flattened NDJSON lines for the lake."""
