from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Email (verified), name, and the user's groups as a ``roles`` claim."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "roles": "profile"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": user.get_full_name() or user.username,
            "preferred_username": user.username,
            "roles": sorted(user.groups.values_list("name", flat=True)),
        }
