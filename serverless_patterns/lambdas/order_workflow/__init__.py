"""Order workflow (Step Functions saga) handlers: validate, charge, reserve, confirm, refund.

One module per Lambda handler (``validate``, ``charge``, ``inventory``, ``confirm``,
``refund``); the domain logic is in ``logic``, the only AWS access in ``data``, the
payment gateway seam in ``gateway``.
"""
