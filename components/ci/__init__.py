from components.ci.runner import GitHubRunner, GitHubRunnerArgs, runner_project_name

__all__ = ["GitHubRunner", "GitHubRunnerArgs", "runner_project_name"]
