"""HTTP routes, thin: validate, call the engine, shape the answer."""
