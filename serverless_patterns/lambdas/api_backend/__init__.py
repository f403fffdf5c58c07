"""The items API: a Powertools REST resolver over DynamoDB.

``handler`` (entry point, routes, HTTP mapping) -> ``logic`` (domain rules) ->
``data_access`` (the only module that calls AWS). ``models`` holds the pydantic
request/response/settings models, ``routes`` the route table both the resolver
and the 405 answers use, ``cursor`` the tamper-proof page cursor.
"""
