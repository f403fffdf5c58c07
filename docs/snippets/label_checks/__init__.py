"""A team's own processor for the EventPipeline (a snippet of the docs, run by the tests)."""
