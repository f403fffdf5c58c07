"""A pre-deploy monthly cost estimate of any app built from the constructs: templates, traffic profile, prices.

``serverless-patterns cost`` (``make cost ENV=prod``, ``python -m serverless_patterns.cost``)
synthesizes the app and prints, per stack, line items per service, the total, Lambda usage per
function and what each pipeline's batching saves per 1,000 files. Nothing here calls AWS.

Modules
    ``inventory`` what a template holds that costs money (functions and their pattern roles...).
    ``template``  reads a template into its inventory.
    ``workflow``  paths through a state machine definition (state transitions, tasks invoked).
    ``profile``   the traffic profile (``profile.json`` is the default; yours is merged over it).
    ``prices``    the dated list prices (``prices.json``, us-east-1).
    ``traffic``   the model: traffic per pattern instance -> loads per function.
    ``services``  loads and resources -> line items per service.
    ``results``   line items, per-function usage, the batching comparison.
    ``estimate``  puts them together; ``report`` prints the tables.

Functions are placed by the pattern role their construct records in the template
(``serverless_patterns.roles``), never by construct ids; one the estimator cannot place is
priced with the profile's ``unplaced`` default and named in the notes.

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
