"""ApiBackend's runtime: a Powertools REST resolver with the pattern's plumbing, and the items API built on it.

Your own API imports ``custom`` (the one documented module). The pieces it exports:
``app`` (``ApiApp``: the resolver, the request guard, the error mapping, CORS, observability),
``errors`` (domain errors and their statuses), ``wire`` and ``responses`` (models and response
shapes), ``preconditions``, ``parameters``, ``repository`` (``VersionedRepository``),
``idempotency`` (``IdempotentCreate``), ``cursor`` (signed page cursors), ``resources`` (what
the construct gives the function) and ``request_guard``.

The items API, the construct's default, is built from them: ``handler`` (entry point) ->
``routes`` (the items routes) -> ``logic`` (domain rules) -> ``data_access`` (the items table);
``models`` holds its pydantic models, ``metric_names`` its business metrics, ``openapi`` prints
its document (or yours).
"""
