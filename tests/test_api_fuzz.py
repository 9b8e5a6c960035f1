"""API fuzzing (issue 14): schemathesis generates requests from the server's own OpenAPI schema,
valid and invalid, for every operation, and checks that none is answered with a 5xx and that
every answer matches the schema (the `{error, type}` shape included).

Bounded so it stays fast (a few examples per operation, no shrinking, no example database).
Guide jobs are started for real but tiny; `/api/jobs/*` ids are random, so they exercise 404s.
Needs `schemathesis` (dev extra); skipped without it.
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from cliplens.assets import fixtures_dir  # noqa: E402
from cliplens.server import Limits, create_app  # noqa: E402

EXAMPLES = int(os.environ.get("CLIPLENS_FUZZ_EXAMPLES", "6"))

# small limits so generated requests stay cheap: a fuzzer does not need 512-pixel guide runs
_LIMITS = Limits(max_guide_size=64, max_guide_steps=4, max_images=4, max_texts=16, max_text_chars=400)
app = create_app(models=["toyclip"], roots=[fixtures_dir(64)], device="cpu", limits=_LIMITS, access_log=False,
                 allowed_hosts=["testserver", "127.0.0.1", "localhost"])
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
