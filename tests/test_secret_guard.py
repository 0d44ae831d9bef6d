"""Free text that looks like a secret is refused; ordinary inventory text is not."""

import pytest

from vendor_risk.core.secret_detection import secret_problem


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "the token is ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-1234567890-abcdefghijkl",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc123def456ghi789",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "first line\nsecond line with 9f8e7d6c5b4a39281716f5e4d3c2b1a0f9e8d7c6",
        "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1eg9sK3",
    ],
)
def test_secret_looking_text_is_refused_with_a_reason(text):
    problem = secret_problem(text)
    assert problem is not None
    assert "never" in problem  # says why: values are never stored


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "svc-bitbucket service account",
        "Okta support access for customer tickets",
        "Atlassian Bitbucket Server, https://bitbucket.internal.example.com/projects/CORE",
        "about 1200000 records of customer PII",
        "copies in Jira ticket SUP-12345 and Confluence page 98765432",
        "rotated through the vault path secret/data/okta/svc-jira",
        "identity-provider-production-admin-console",
    ],
)
def test_ordinary_text_passes(text):
    assert secret_problem(text) is None
