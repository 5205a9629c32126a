"""The durable queues' delivery: the worker, and which outbox kind goes to which deliverer."""
