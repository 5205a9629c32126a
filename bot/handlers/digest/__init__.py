"""Weekly digests: what is due, what they say, and sending them once."""
