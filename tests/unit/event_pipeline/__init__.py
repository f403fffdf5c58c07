"""Pure logic of the event pipeline: formats, models, retry policy."""
