"""A pre-deploy monthly cost estimate of an environment: its synthesized template, a traffic profile, list prices.

``make cost ENV=prod`` (``python -m serverless_patterns.cost --env prod``) synthesizes the
environment and prints line items per service, the total, Lambda usage per function and
what the processing queue's batching saves per 1,000 files. Nothing here calls AWS.

Modules
    ``template``  the billable inventory of a template (functions, event sources, schedules...).
    ``workflow``  paths through a state machine definition (state transitions, tasks invoked).
    ``profile``   the traffic profile (``profile.json`` is the default; yours is merged over it).
    ``prices``    the dated list prices (``prices.json``, us-east-1).
    ``estimate``  the model: traffic -> loads per function -> line items; the batching comparison.
    ``report``    the tables ``make cost`` prints.
    ``synth``     synthesizes environments for the CLI (the only module importing aws_cdk).

In code::

    inventory = read_inventory(template)                   # a template dict
    result = estimate(inventory, load_profile(), Prices.load(), environment="Prod")
    result.total_usd, result.by_service(), result.items    # line items with quantity and unit price
"""

from serverless_patterns.cost.estimate import BatchingComparison, Estimate, LineItem, batching_comparison, estimate
from serverless_patterns.cost.inventory import Inventory
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import TrafficProfile, load_profile
from serverless_patterns.cost.template import read_inventory

__all__ = [
    "BatchingComparison",
    "Estimate",
    "Inventory",
    "LineItem",
    "Prices",
    "TrafficProfile",
    "batching_comparison",
    "estimate",
    "load_profile",
    "read_inventory",
]
