"""The team dashboard (`/api/{teamSlug}/dashboard`): counts and the onboarding checklist."""

from chalicelib.models.base import ResponseModel


class OnboardingItem(ResponseModel):
    done: bool
    resource_id: str | None = None


class Onboarding(ResponseModel):
    sign_up: OnboardingItem
    create_team: OnboardingItem
    create_node: OnboardingItem
    create_project: OnboardingItem
    create_version: OnboardingItem
    add_images: OnboardingItem
    add_deployment: OnboardingItem
    deploy: OnboardingItem


class DashboardResponse(ResponseModel):
    users: int
    audit_log: int
    projects: int
    versions: int
    deployments: int
    failed_deployments: int
    onboarding: Onboarding
