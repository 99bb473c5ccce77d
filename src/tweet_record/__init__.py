"""The trendstream stream record: one definition shared by the producer, consumer and transformer."""
