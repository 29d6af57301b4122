"""The ECR repositories of training and serving images, their policies and their pull grants."""

from components.images.documents import PULL_ACTIONS, PUSH_ACTIONS, lifecycle_policy, repository_policy_statements
from components.images.repositories import ImageRepositories, ImageRepositoriesArgs

__all__ = ["PULL_ACTIONS", "PUSH_ACTIONS", "ImageRepositories", "ImageRepositoriesArgs", "lifecycle_policy", "repository_policy_statements"]
