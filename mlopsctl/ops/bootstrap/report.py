"""What one bootstrap run found and did, and what to do next: findings, next steps, stack settings and CI variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.config import PROJECT, runner_project_name
from components.incluster.config import PROJECT as INCLUSTER_PROJECT
from mlopsctl import ROOT
from mlopsctl.offline.stackfile import INCLUSTER_DIR
from mlopsctl.ops.bootstrap.names import ENVIRONMENTS, Names

OK, CREATED, DRIFT, FIXED = "ok", "created", "drift", "fixed"
# Outstanding: steps only a human can take (no --fix), a GitHub connection waiting for its console
# authorisation (pending) or in ERROR (failed); and a step whose AWS call failed (failed).
PENDING, FAILED = "pending", "failed"


@dataclass
class Finding:
    """One resource's outcome. ``differences`` are human lines; ``unfixed`` those still wrong.

    ``finished``: what this run completed of a creation an earlier run began; ``failure`` and
    ``remedy``: the AWS error that stopped this step (its operation and code) and what to do.
    """

    resource: str
    kind: str  # e.g. "s3-bucket", "kms-alias", "iam-role"
    status: str = OK
    differences: list[str] = field(default_factory=list)
    unfixed: list[str] = field(default_factory=list)
    note: str = ""
    todo: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    failure: str = ""
    remedy: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "kind": self.kind, "status": self.status, "differences": self.differences,
                "unfixed": self.unfixed, "finished": self.finished, "failure": self.failure or None, "remedy": self.remedy or None,
                "note": self.note}


@dataclass
class BootstrapReport:
    names: Names
    environment: str
    github_repo: str | None
    findings: list[Finding] = field(default_factory=list)
    key_arn: str | None = None
    error: str | None = None
    # With --github-connection: {"name", "arn", "status"} of the connection, once found or created.
    connection: dict[str, str] | None = None
    # The steps an AWS error kept from running (each depends on the ones before it).
    not_run: list[str] = field(default_factory=list)
    # With --image-pushers: {"pusher", "githubRepo", "subject", "roleArn", "repositories"} per push role confirmed or created.
    push_roles: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(f.status in (CREATED, FIXED) or f.finished for f in self.findings)

    @property
    def outstanding(self) -> list[Finding]:
        return [f for f in self.findings if f.unfixed or f.failure]

    def role_arns(self) -> dict[str, str]:
        """This environment's CI roles in this account: ``deploy`` and ``preview``."""
        if not self.github_repo:
            return {}
        n, env = self.names, self.environment
        return {"deploy": n.role_arn(n.deploy_role(env)), "preview": n.role_arn(n.preview_role(env))}

    def next_steps(self) -> list[str]:
        n, env, secrets = self.names, self.environment, self.names.secrets_provider()
        return [
            f"pulumi login '{n.login_url()}'",
            f"pulumi stack init organization/{PROJECT}/{env} --secrets-provider '{secrets}'",
            f"pulumi stack init organization/{INCLUSTER_PROJECT}/{env} --secrets-provider '{secrets}' --cwd {INCLUSTER_DIR.relative_to(ROOT)}",
        ]

    def stack_settings(self) -> dict[str, str]:
        """Keys of ``mlops-platform:platform`` in ``stacks/Pulumi.<env>.yaml`` that take values from this run."""
        if not self.github_repo:
            return {}
        n = self.names
        return {"iam.permissionsBoundaryArn": n.policy_arn(n.boundary_policy), "eks.deployRoleArn": self.role_arns()["deploy"]}

    def github_variables(self) -> list[dict[str, str]]:
        """The GitHub Actions variables the workflows read, for this environment (none is a secret).

        Deploy jobs run in GitHub environment ``<env>`` and read its variables; pull-request jobs
        run in no environment (that would change their OIDC subject), so each stack's preview
        role and backend are repository variables suffixed with the upper-case environment.
        """
        if not self.github_repo:
            return []
        n, env, roles = self.names, self.environment, self.role_arns()
        suffix = env.upper()

        def variable(scope: str, name: str, value: str, note: str = "") -> dict[str, str]:
            return {"scope": scope, "environment": env if scope == "environment" else None, "name": name, "value": value, "note": note}

        return [
            variable("environment", "AWS_ROLE_ARN", roles["deploy"]),
            variable("environment", "AWS_REGION", n.region),
            variable("environment", "PULUMI_BACKEND_URL", n.login_url()),
            variable("environment", "CODEBUILD_RUNNER_PROJECT", runner_project_name(f"{n.name}-{env}"),
                     "suggested; the stack output ciRunner.projectName is authoritative"),
            variable("repository", f"AWS_PREVIEW_ROLE_ARN_{suffix}", roles["preview"]),
            variable("repository", f"PULUMI_BACKEND_URL_{suffix}", n.login_url()),
        ]

    def registry(self) -> str:
        """The registry host image pushes log in to (``docker login``, aws-actions/amazon-ecr-login)."""
        n = self.names
        return f"{n.account}.dkr.ecr.{n.region}.amazonaws.com{'.cn' if n.partition == 'aws-cn' else ''}"

    def connection_steps(self) -> list[str]:
        """What to do about the GitHub connection, by its status (the same lines in text and JSON)."""
        c = self.connection
        if c is None:
            return []
        env, repository = self.environment, self.github_repo or "the repository"
        then = (f"ciRunner.connectionArn: {c['arn']} and ciRunner.webhook: true in stacks/Pulumi.{env}.yaml "
                f"let layer 1 create the runner webhook.")
        if c["status"] == "AVAILABLE":
            return [then[0].upper() + then[1:]]
        if c["status"] == "PENDING":
            return [f"Authorise it once in the AWS console ({self.names.connections_console_url}): Developer Tools console > Settings > "
                    f"Connections > {c['name']} > \"Update pending connection\" > install or choose the GitHub App for {repository}.",
                    f"After that, {then}"]
        return [f"AWS retries a connection in {c['status']} by itself, and nothing can use it until it is AVAILABLE. In the Developer Tools "
                f"console ({self.names.connections_console_url}) > Settings > Connections > {c['name']}, check that the GitHub App "
                f"installation it uses still exists and can access {repository}; if it stays in {c['status']}, delete the connection "
                f"there and re-run bootstrap with --github-connection, which creates a new one (with a new ARN).",
                f"Once it is AVAILABLE, {then}"]

    def connection_json(self) -> dict[str, Any] | None:
        c = self.connection
        if c is None:
            return None
        return {**c, "ok": c["status"] == "AVAILABLE", "consoleUrl": self.names.connections_console_url, "steps": self.connection_steps(),
                "stackSettings": {"ciRunner.connectionArn": c["arn"], "ciRunner.webhook": True}}

    def to_json(self) -> dict[str, Any]:
        n = self.names
        return {
            "account": n.account,
            "region": n.region,
            "name": n.name,
            "environment": self.environment,
            "changed": self.changed,
            "ok": not self.outstanding and not self.error,
            "error": self.error,
            "stateBucket": n.state_bucket,
            "secretsKeyAlias": n.key_alias,
            "secretsKeyArn": self.key_arn,
            "backendUrl": n.login_url(),
            "secretsProvider": n.secrets_provider(),
            "permissionsBoundaryArn": n.policy_arn(n.boundary_policy) if self.github_repo else None,
            "roles": self.role_arns(),
            "nextSteps": self.next_steps(),
            "stackSettings": self.stack_settings(),
            "githubVariables": self.github_variables(),
            "githubConnection": self.connection_json(),
            "imagePushRoles": self.push_roles,
            "imageRegistry": self.registry() if self.push_roles else None,
            "findings": [f.to_json() for f in self.findings],
            "notRun": self.not_run,
        }


class Step:
    """Collect differences for one resource and apply fixes when allowed.

    A resource bootstrap began creating (its state tag still says so, see ``ownership``) is
    *resumed*: what its creation sequence would have set is set now, without --fix, and it is
    reported ``created``, not as drift. What the first create call set, and anything else found
    different, is still drift.
    """

    def __init__(self, report: BootstrapReport, resource: str, kind: str, fix: bool):
        self.finding = Finding(resource=resource, kind=kind)
        self.fix = fix
        self.began = False  # this run's create call succeeded
        self.resuming = False
        report.findings.append(self.finding)

    def created(self, note: str = "") -> None:
        self.finding.status = CREATED
        self.finding.note = note

    def resume(self) -> None:
        self.resuming = True
        self.finding.note = "an earlier run began creating it and stopped part-way"

    def differs(self, description: str, fixer: Callable[[], None] | None, *, resumable: bool = False) -> None:
        """Record a difference; apply ``fixer`` only with --fix (or when resuming a ``resumable`` setting). ``None``: never auto-fixed."""
        if fixer is None:
            description += " (not fixed automatically)"
        if self.resuming and resumable and fixer is not None:
            fixer()
            self.finding.finished.append(description)
        else:
            self.finding.differences.append(description)
            if self.fix and fixer is not None:
                fixer()
            else:
                self.finding.unfixed.append(description)
        self.finding.status = DRIFT if self.finding.unfixed else CREATED if self.resuming else FIXED

    def resumed(self) -> bool:
        """Whether a resumed creation is now complete (then it is ``created``; its state tag may say so)."""
        if not self.resuming or self.finding.unfixed:
            return False
        self.finding.status = CREATED
        self.finding.note = "an earlier run began creating it and stopped part-way; finished now"
        return True

    def to_do(self, description: str, status: str) -> None:
        """A step only a human can take: outstanding (exit 1) until done; a new resource stays ``created``."""
        self.finding.differences.append(description)
        self.finding.unfixed.append(description)
        self.finding.todo.append(description)
        if self.finding.status != CREATED:
            self.finding.status = status

    def failed(self, failure: str, remedy: str) -> None:
        """An AWS call of this step failed: ``failure`` names its operation and error code, ``remedy`` what to do."""
        self.finding.status = FAILED
        self.finding.failure, self.finding.remedy = failure, remedy
        if self.began:
            self.finding.note = "created by this run, not finished"


def render_text(report: BootstrapReport, fix: bool) -> str:
    n, env = report.names, report.environment
    out = [f"Bootstrap '{n.name}' for environment {env} in account {n.account}, region {n.region}", ""]
    for f in report.findings:
        label = {OK: "ok     ", CREATED: "created", FIXED: "fixed  ", DRIFT: "DRIFT  ", PENDING: "PENDING", FAILED: "FAILED "}[f.status]
        out.append(f"  {label} {f.kind:18} {f.resource}" + (f"  ({f.note})" if f.note else ""))
        out += [f"            - finished: {line}" for line in f.finished]
        for difference in f.differences:
            if difference not in f.unfixed:
                mark = "fixed"
            elif difference in f.todo:
                mark = "failed" if f.status == FAILED else "to do"
            else:
                mark = "differs"
            out.append(f"            - {mark}: {difference}")
        if f.failure:
            out += [f"            - failed: {f.failure}", f"            - to do: {f.remedy}"]
    out.append("")
    if report.error:
        out.append(f"ERROR: {report.error}")
        if report.not_run:
            out.append(f"Not run (each needs the steps before it): {', '.join(report.not_run)}.")
        return "\n".join(out) + "\n"
    differences = sum(len(f.unfixed) for f in report.outstanding if f.status == DRIFT)
    if differences:
        hint = "" if fix else " Re-run with --fix to correct the fixable ones."
        out.append(f"{differences} difference(s) remain.{hint}")
    if report.connection and report.connection["status"] != "AVAILABLE":
        out.append(f"The GitHub connection {report.connection['name']} is {report.connection['status']}: see GitHub connection, below.")
    if not report.outstanding:
        out.append("Done." if report.changed else "No changes: everything already matches.")
    others = " and ".join(e for e in ENVIRONMENTS if e != env)
    out += ["", f"Next steps for the {env} stacks (their state bucket is in this account, {env}'s own; {others} bootstrap their own accounts):"]
    out += [f"  {line}" for line in report.next_steps()]
    settings = report.stack_settings()
    if settings:
        out += ["", f"In stacks/Pulumi.{env}.yaml ({PROJECT}:platform), set:"] + [f"  {key}: {value}" for key, value in settings.items()]
    variables = report.github_variables()
    if variables:
        out += ["", "GitHub Actions variables (scope, name, value; none is secret):"]
        for v in variables:
            scope = f"environment {v['environment']}" if v["scope"] == "environment" else "repository"
            out.append(f"  {scope:19} {v['name']:28} {v['value']}" + (f"  ({v['note']})" if v["note"] else ""))
    if report.push_roles:
        out += ["", f"Image push roles (registry {report.registry()}): a model repository's workflow assumes its role with "
                    "aws-actions/configure-aws-credentials, from a job whose OIDC subject is the one shown:"]
        for role in report.push_roles:
            repositories = ", ".join(arn.split(":repository/", 1)[1] for arn in role["repositories"])
            out += [f"  {role['pusher']}: {role['githubRepo']} ({role['subject']})", f"    role-to-assume: {role['roleArn']}",
                    f"    pushes to: {repositories}"]
    if report.connection:
        c = report.connection
        out += ["", f"GitHub connection {c['name']} ({c['arn']}): {c['status']}"] + [f"  {line}" for line in report.connection_steps()]
    return "\n".join(out) + "\n"
