"""The event pipeline's handlers: validate S3 uploads, process them from SQS, park what is invalid.

``layout`` is the contract the construct and the handlers share (prefixes, tags, environment
variable names); it imports nothing but the standard library so the CDK side can use it.
"""
