"""``make bench``: cold starts, synth time, asset sizes and warm overhead, each as a ratio measured in one run.

Not part of ``make test`` (it takes minutes and its figures depend on the machine's load).

Modules
    ``measure``           fresh-process timing, interleaved rounds, median/min/max, ratios.
    ``synth_and_assets``  full three-environment synth against an empty app, and without its gates against a
                          plain-L2 baseline of as many resources; zipped asset per function.
    ``baseline_app``      that baseline app, generated from the resource counts of our templates.
    ``events``            one real event per function, captured from traffic on the local cloud.
    ``cold_start``        each handler in a fresh process (its asset, its environment) against the floor.
    ``warm``              warm invocations against the same AWS calls made directly.
    ``report``            the tables printed from ``results.json``.
"""
