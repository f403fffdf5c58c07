"""The box office's own code, run inside serverless-patterns' patterns (no aws_cdk here).

- ``shows``: the shows API (``ApiBackend``'s ``api`` role), routes of its own on the pattern's plumbing;
- ``wallet``: the payment provider (``OrderWorkflow``'s ``charge_payment``/``refund_payment``): prepaid wallets;
- ``tickets``: the confirmation step (``send_confirmation``): tickets issued once per order;
- ``seat_maps``: a venue's seat map (``EventPipeline``'s ``validate`` rules and ``process`` processor);
- ``sales``: ticket revenue per show (``FanOut``'s ``worker`` and ``aggregator``).
"""
