"""How far each pattern scales before the first AWS limit, computed from the synthesized template.

``make capacity ENV=prod`` (``python -m serverless_patterns.capacity --env prod``) recognises
every pattern instance of the environment's template and, for each, computes the sustained
throughput every limit allows (template settings, AWS quotas, the design's own hot items), the
lowest first, what to raise, and the month's cost at that ceiling from the cost estimator.
Nothing here calls AWS.

Modules
    ``patterns``   which pattern instances a template holds (metadata, else construct paths).
    ``quotas``     the dated AWS default quotas (``quotas.json``, each with its source), yours over them.
    ``model``      limits, hot keys, a pattern's capacity, the Lambda concurrency arithmetic.
    ``api``, ``pipeline``, ``fan_out``, ``orders``   each pattern's model.
    ``checks``     what every pattern shares: secrets on the hot path, KMS, scaling ramps.
    ``analysis``   one environment: every pattern, the account checks, the cost at each ceiling.
    ``report``     the tables ``make capacity`` prints.

In code::

    inventory = read_inventory(template)   # serverless_patterns.cost.template
    result = analyse(inventory, quotas=Quotas.load(), profile=load_profile(), prices=Prices.load(), environment="Prod")
    [(p.pattern, p.ceiling, p.first.name) for p in result.patterns]
"""

from serverless_patterns.capacity.analysis import Analysis, analyse
from serverless_patterns.capacity.model import HotKey, Limit, PatternCapacity
from serverless_patterns.capacity.patterns import PatternInstance, recognize_patterns
from serverless_patterns.capacity.quotas import Quota, Quotas

__all__ = [
    "Analysis",
    "HotKey",
    "Limit",
    "PatternCapacity",
    "PatternInstance",
    "Quota",
    "Quotas",
    "analyse",
    "recognize_patterns",
]
