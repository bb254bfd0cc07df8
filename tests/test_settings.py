import dataclasses

import pytest

from webhook.core.settings import Settings, from_env, to_env


def test_without_environment_the_defaults_hold() -> None:
    assert from_env({}) == Settings()


def test_every_setting_reads_back_from_the_variables_it_writes() -> None:
    changed = dataclasses.replace(
        Settings(), cluster_domain="corp.internal", orphan_grace_seconds=7.5, threads=3, failure_policy="Ignore"
    )
    assert from_env(to_env(changed)) == changed


def test_an_explicit_override_wins_over_the_environment_and_none_leaves_it() -> None:
    environ = {"NSMIGRATE_CLUSTER_DOMAIN": "corp.internal", "NSMIGRATE_THREADS": "4"}
    settings = from_env(environ, cluster_domain=None, threads=2)
    assert (settings.cluster_domain, settings.threads) == ("corp.internal", 2)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({"NSMIGRATE_THREADS": "many"}, "NSMIGRATE_THREADS='many' is not a valid int", id="not-a-number"),
        pytest.param({"NSMIGRATE_FAILURE_POLICY": "Maybe"}, "Fail or Ignore", id="unknown-policy"),
    ],
)
def test_a_bad_value_is_one_clear_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_env(environ)


def test_protected_namespaces_include_nsmigrates_own() -> None:
    settings = Settings(own_namespace="platform-nsmigrate")
    assert {"kube-system", "kube-public", "kube-node-lease", "platform-nsmigrate"} <= settings.protected_namespaces
