"""Handlers the runner tests run in real execution environments (awslambdaric processes,
``streamops.lambda_local.function.ProcessFunction``), and the files they share with the
test (``state_files``).

The task root of these functions is the repository root and their handler names are
dotted (``tests.support.functions.semantics.succeed``), which awslambdaric resolves with
importlib as Lambda does; so the handlers import their helpers as the test does, from
this package. Everything here is stdlib only: it is imported inside each environment's
INIT, paid at every cold start of the property tests (a few dozen per run).
"""
