"""`crosstalk demo` and the local platform stand-ins it runs on (the tests reuse them)."""
