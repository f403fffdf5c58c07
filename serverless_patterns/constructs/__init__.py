"""The reusable constructs and the small building blocks they share."""
