"""FanOut handlers: a master splits a job into chunks, workers process them, an aggregator combines them.

Modules: ``master``, ``worker``, ``aggregator``, ``sweeper`` and ``status`` are the thin Lambda
entry points; ``models`` holds the validated records, ``processing`` the item processor, ``logic``
the job lifecycle and ``data_access`` the only code that talks to AWS.
"""
