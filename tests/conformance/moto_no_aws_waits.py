"""A pytest plugin for moto_aws_verified.py: the waits for AWS's asynchronous work are skipped.

Some AWS-verified tests sleep while real DynamoDB finishes work in the background (15 s after
deleting a resource policy, 1 s after each put of one), when `MOTO_TEST_ALLOW_AWS_REQUEST` is
set. tidestore does that work before it answers, so in the modules listed here the module's
own `sleep` does nothing: their resource-policy tests alone slept 54 s of each CI run. What the
tests check is unchanged. (Modules that sleep to poll for a status are not listed.)
"""

import pytest

# Modules whose every `sleep` waits for AWS's asynchronous work, not for a status to change.
WAITING_FOR_AWS = ("test_dynamodb_resource_policy",)


@pytest.fixture(autouse=True)
def _skip_waits_for_aws(request, monkeypatch):
    module = request.module
    if module.__name__.rsplit(".", 1)[-1] in WAITING_FOR_AWS and hasattr(module, "sleep"):
        monkeypatch.setattr(module, "sleep", lambda _seconds: None)
