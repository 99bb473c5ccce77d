"""What every function shares besides the record: tracing, AWS clients, GC tuning, switches."""
