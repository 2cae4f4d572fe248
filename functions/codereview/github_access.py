"""A GitHub client acting for one registration: its token, or an installation token of its App."""

from __future__ import annotations

from codereview.registrations import RegistrationSecret, ResolvedRegistration
from codereview.settings import CodeReviewServiceSettings
from stratus.errors import Forbidden
from stratus.github.client import GitHubClient, StaticToken, TokenProvider


def github_for(
    settings: CodeReviewServiceSettings,
    registration: ResolvedRegistration,
    secret: RegistrationSecret,
    installation_id: int | None,
) -> GitHubClient:
    config = settings.github_config()
    tokens: TokenProvider
    if registration.kind == "app":
        if secret.private_key is None or registration.app_id is None or installation_id is None:
            raise Forbidden(
                f"registration {registration.registration_id}: an App delivery needs the App's private key and an "
                "installation id"
            )
        from stratus.github.auth import InstallationTokens

        tokens = InstallationTokens(config, registration.app_id, secret.private_key, installation_id)
    elif secret.github_token:
        tokens = StaticToken(secret.github_token)
    elif settings.codereview_github_token is not None:
        tokens = StaticToken(settings.codereview_github_token.get_secret_value())
    else:
        raise Forbidden(
            f"registration {registration.registration_id} has no GitHub token and CODEREVIEW_GITHUB_TOKEN is unset"
        )
    return GitHubClient(config, tokens)
