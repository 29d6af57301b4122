"""The bootstrap run: read each account-level resource, compare it with what bootstrap wants, create or fix it.

Order: the secrets key, the state bucket it encrypts, then (with ``--github-repo``) GitHub's OIDC
provider, the CI policies and this environment's CI roles, then (with ``--image-pushers``) the
image push roles of the stack file's ``images.pushers``, then (with ``--github-connection``) the
runner's GitHub connection. Each step needs the ones before it, so an AWS error stops the run: the
step that hit it is ``failed`` (the operation, the AWS error code and what to do), the steps after
it are listed as not run, and nothing is reported ``ok`` that was not confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, describe_aws_error, tag_list, unless_missing
from mlopsctl.ops.bootstrap import documents
from mlopsctl.ops.bootstrap.failures import remedy
from mlopsctl.ops.bootstrap.names import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_URL,
    BootstrapInputError,
    Names,
    parse_github_repo,
    validate_environment,
    validate_name,
)
from mlopsctl.ops.bootstrap.ownership import COMPLETE, CREATING, STATE_TAG, bootstrap_tags, half_built, with_state
from mlopsctl.ops.bootstrap.report import FAILED, PENDING, BootstrapReport, Step
from mlopsctl.ops.bootstrap.state_bucket import ensure_state_bucket

if TYPE_CHECKING:
    from components.config import PlatformConfig

CONNECTION_PROVIDER = "GitHub"


class Bootstrapper:
    def __init__(self, clients: AwsClients, name: str, environment: str, github_repo: str | None = None, fix: bool = False,
                 github_connection: bool = False, stack: PlatformConfig | None = None):
        """stack: the environment's validated stack config (``--image-pushers``): push roles for its ``images.pushers``."""
        self.clients = clients
        self.fix = fix
        self.github_connection = github_connection
        # Every argument is checked before the first AWS call.
        self.environment = validate_environment(environment)
        validate_name(name, clients.region)
        self.github = parse_github_repo(github_repo) if github_repo is not None else None
        self.stack = stack
        if stack is not None:
            _check_stack_matches(stack, name, environment, clients.region, github=self.github is not None)
        identity = clients.account()  # missing or expired credentials: AwsSetupError, one line
        partition = identity["Arn"].split(":")[1]
        if stack is not None and stack.account_id != identity["Account"]:
            raise BootstrapInputError(f"--image-pushers: the stack file's accountId is {stack.account_id}, but these credentials are account "
                                      f"{identity['Account']}'s; bootstrap each environment's account with its own stack file")
        self.names = Names(name=name, account=identity["Account"], region=clients.region, partition=partition)
        self.tags = bootstrap_tags(name)
        self.report = BootstrapReport(names=self.names, environment=environment, github_repo=github_repo)
        self._current: Step | None = None  # the step whose AWS calls run now

    def _step(self, resource: str, kind: str) -> Step:
        self._current = Step(self.report, resource, kind, self.fix)
        return self._current

    def run(self) -> BootstrapReport:
        def secrets_key() -> None:
            self.report.key_arn = self.ensure_secrets_key()

        phases: list[tuple[str, Callable[[], None]]] = [
            ("secrets key", secrets_key), ("state bucket", lambda: self.ensure_state_bucket(self.report.key_arn))]
        if self.github:
            phases += [("GitHub OIDC provider", self.ensure_oidc_provider), ("CI policies", lambda: self.ensure_ci_policies(self.report.key_arn)),
                       ("CI roles", self.ensure_ci_roles)]
        if self.stack is not None:
            phases.append(("image push roles", self.ensure_image_push_roles))
        if self.github_connection:
            phases.append(("GitHub connection", self.ensure_github_connection))
        for index, (phase, run) in enumerate(phases):
            self._current = None
            try:
                run()
            except AWS_ERRORS as exc:
                step = self._current or self._step(phase, "bootstrap-step")
                step.failed(describe_aws_error(exc), remedy(exc, self.names, step.finding.resource))
                self.report.error = f"stopped at {phase}: {describe_aws_error(exc)}"
                self.report.not_run = [later for later, _ in phases[index + 1:]]
                break
        return self.report

    # -----------------------------------------------------------------------------------------
    # KMS

    def _find_alias(self, kms) -> dict | None:
        for page in kms.get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                if alias["AliasName"] == self.names.key_alias:
                    return alias
        return None

    def _half_built_key_without_alias(self, kms) -> dict | None:
        """A key an earlier run created and tagged but stopped before aliasing: finished, not duplicated."""
        for page in kms.get_paginator("list_keys").paginate():
            for entry in page["Keys"]:
                meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") != "Enabled":
                    continue
                tags = {t["TagKey"]: t["TagValue"] for tags_page in kms.get_paginator("list_resource_tags").paginate(KeyId=entry["KeyId"])
                        for t in tags_page["Tags"]}
                if half_built(tags, self.names.name):
                    return meta
        return None

    def ensure_secrets_key(self) -> str:
        kms = self.clients.client("kms")
        step = self._step(self.names.key_alias, "kms-alias")
        alias = self._find_alias(kms)
        if alias is None or not alias.get("TargetKeyId"):
            key = self._half_built_key_without_alias(kms)
            if key is None:
                key = kms.create_key(
                    Description=f"Pulumi secrets provider and state bucket encryption ({self.names.name})",
                    KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT", Tags=_kms_tags(with_state(self.tags, CREATING)),
                )["KeyMetadata"]
            step.began = True
            # The alias first: a rerun finds the key only through it.
            kms.create_alias(AliasName=self.names.key_alias, TargetKeyId=key["KeyId"])
            kms.enable_key_rotation(KeyId=key["KeyId"])
            kms.tag_resource(KeyId=key["KeyId"], Tags=_kms_tags({STATE_TAG: COMPLETE}))
            step.created(f"key {key['Arn']} with rotation on")
            return key["Arn"]

        meta = kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]
        key_id, key_arn = meta["KeyId"], meta["Arn"]
        step.finding.note = f"key {key_arn}"
        if meta.get("KeyManager") == "CUSTOMER":
            tags = {t["TagKey"]: t["TagValue"] for page in kms.get_paginator("list_resource_tags").paginate(KeyId=key_id) for t in page["Tags"]}
            if half_built(tags, self.names.name):
                step.resume()
        # The alias is never repointed: the key it names decrypts every existing stack's secrets.
        if meta.get("KeyManager") != "CUSTOMER":
            step.differs(f"alias points at an {meta.get('KeyManager')}-managed key; use a customer-managed key", None)
        if meta.get("KeySpec", meta.get("CustomerMasterKeySpec")) != "SYMMETRIC_DEFAULT" or meta.get("KeyUsage") != "ENCRYPT_DECRYPT":
            step.differs(f"key is {meta.get('KeySpec')}/{meta.get('KeyUsage')}; need SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT", None)
        state = meta.get("KeyState")
        if state == "PendingDeletion":
            step.differs("key is scheduled for deletion", lambda: (kms.cancel_key_deletion(KeyId=key_id), kms.enable_key(KeyId=key_id)))
        elif state == "Disabled":
            step.differs("key is disabled", lambda: kms.enable_key(KeyId=key_id))
        elif state != "Enabled":
            step.differs(f"key state is {state}", None)
        if meta.get("KeyManager") == "CUSTOMER" and not kms.get_key_rotation_status(KeyId=key_id).get("KeyRotationEnabled"):
            step.differs("automatic key rotation is off", lambda: kms.enable_key_rotation(KeyId=key_id), resumable=True)
        if step.resumed():
            kms.tag_resource(KeyId=key_id, Tags=_kms_tags({STATE_TAG: COMPLETE}))
            step.finding.note += f" (key {key_arn})"
        return key_arn

    # -----------------------------------------------------------------------------------------
    # S3

    def ensure_state_bucket(self, key_arn: str) -> None:
        step = self._step(f"s3://{self.names.state_bucket}", "s3-bucket")
        ensure_state_bucket(self.clients.client("s3"), self.names, step, key_arn, self.tags)

    # -----------------------------------------------------------------------------------------
    # IAM

    def ensure_oidc_provider(self) -> None:
        iam = self.clients.client("iam")
        arn = self.names.oidc_provider_arn
        step = self._step(arn, "iam-oidc-provider")
        existing = {p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])}
        if arn not in existing:
            # No thumbprint: IAM trusts GitHub's OIDC endpoint through its library of root CAs.
            iam.create_open_id_connect_provider(Url=GITHUB_OIDC_URL, ClientIDList=[GITHUB_OIDC_AUDIENCE], Tags=tag_list(self.tags))
            step.created()
            return
        step.finding.note = "reused the account's existing provider"
        audiences = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn).get("ClientIDList", [])
        if GITHUB_OIDC_AUDIENCE not in audiences:
            step.differs(f"audience {GITHUB_OIDC_AUDIENCE} not in client IDs {audiences}",
                         lambda: iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=GITHUB_OIDC_AUDIENCE))

    def ensure_ci_policies(self, key_arn: str) -> None:
        n = self.names
        self._ensure_managed_policy(n.boundary_policy, documents.boundary_policy(n, key_arn), "Permissions boundary of the CI roles and of every role the platform creates")
        self._ensure_managed_policy(n.deploy_policy, documents.deploy_policy(n, key_arn), "What pulumi up of the mlops platform needs")
        self._ensure_managed_policy(n.deploy_events_policy, documents.deploy_events_policy(n), "What pulumi up of the mlops platform needs: alerts and promotion")
        self._ensure_managed_policy(n.preview_policy, documents.preview_policy(n, key_arn), "Read-only: pulumi preview of the mlops platform")

    def _ensure_managed_policy(self, name: str, document: dict, description: str) -> None:
        iam = self.clients.client("iam")
        arn = self.names.policy_arn(name)
        step = self._step(arn, "iam-policy")
        policy = unless_missing(lambda: iam.get_policy(PolicyArn=arn)["Policy"], "NoSuchEntity", None)
        if policy is None:
            iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document), Description=description, Tags=tag_list(self.tags))
            step.created()
            return
        current = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
        differences = documents.policy_differences(current, document)
        if differences:
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
            # IAM keeps at most five versions; making room would mean deleting one, which bootstrap never does.
            fixer = None if len(versions) >= 5 else (
                lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True))
            suffix = "" if fixer else " (policy has 5 versions: delete an old one first)"
            step.differs(f"policy document: {'; '.join(differences)}{suffix}", fixer)

    def ensure_ci_roles(self) -> None:
        """This environment's deploy and preview roles. Other environments' roles live in their own accounts."""
        org, repo = self.github
        n, env = self.names, self.environment
        self._ensure_role(n.deploy_role(env), documents.github_trust_policy(n, documents.deploy_subject(org, repo, env)),
                          [n.policy_arn(p) for p in n.deploy_policies], f"GitHub Actions deploy role for the {env} environment of {org}/{repo}")
        self._ensure_role(n.preview_role(env), documents.github_trust_policy(n, documents.preview_subject(org, repo)),
                          [n.policy_arn(n.preview_policy)], f"GitHub Actions read-only preview role of stack {env} for pull requests of {org}/{repo}")
        self._report_legacy_preview_role()

    def ensure_image_push_roles(self) -> None:
        """A role and a policy of the same name per ``images.pushers`` entry; push roles of this
        environment the stack file no longer names are reported, never deleted."""
        images, n, env = self.stack.images, self.names, self.environment
        for pusher, settings in images.pushers.items():
            role = n.push_role(env, pusher)
            repositories = [r.name for r in images.pushed_by(pusher)]
            self._ensure_managed_policy(role, documents.push_policy(n, env, repositories),
                                        f"Push images to {', '.join(repositories)} of the {env} stack, for {settings.github_repo}")
            self._ensure_role(role, documents.github_trust_policy(n, settings.oidc_subject), [n.policy_arn(role)],
                              f"GitHub Actions image pushes of {settings.github_repo} to the {env} stack's repositories")
            self.report.push_roles.append({"pusher": pusher, "githubRepo": settings.github_repo, "subject": settings.oidc_subject,
                                           "roleArn": n.role_arn(role), "repositories": [n.image_repository_arn(env, r) for r in repositories]})
        self._report_stale_push_roles({n.push_role(env, pusher) for pusher in images.pushers})

    def _report_stale_push_roles(self, wanted: set[str]) -> None:
        iam = self.clients.client("iam")
        prefix = self.names.push_role(self.environment, "")
        self._current = None
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                if name.startswith(prefix) and name not in wanted:
                    step = self._step(role["Arn"], "iam-role")
                    step.differs(f"push role not in the stack file's images.pushers: delete it (and its policy {name}) once no "
                                 f"workflow assumes it", None)

    def _report_legacy_preview_role(self) -> None:
        """An account bootstrapped before preview roles were per environment still has ``<name>-preview``."""
        iam = self.clients.client("iam")
        n = self.names
        self._current = None
        if unless_missing(lambda: iam.get_role(RoleName=n.legacy_preview_role), "NoSuchEntity", None) is None:
            return
        step = self._step(n.role_arn(n.legacy_preview_role), "iam-role")
        step.differs(f"legacy preview role shared by every environment: pull requests now assume {n.preview_role(self.environment)}; "
                     f"delete it once no workflow reads AWS_PREVIEW_ROLE_ARN", None)

    def _ensure_role(self, role_name: str, trust: dict, policy_arns: list[str], description: str) -> None:
        iam = self.clients.client("iam")
        boundary = self.names.policy_arn(self.names.boundary_policy)
        step = self._step(self.names.role_arn(role_name), "iam-role")
        role = unless_missing(lambda: iam.get_role(RoleName=role_name)["Role"], "NoSuchEntity", None)
        if role is None:
            # Trust, boundary and tags are set by the create call itself; the policy is the one step after it.
            iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), Description=description,
                            PermissionsBoundary=boundary, MaxSessionDuration=3600, Tags=tag_list(with_state(self.tags, CREATING)))
            step.began = True
            for policy_arn in policy_arns:
                iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
            iam.tag_role(RoleName=role_name, Tags=tag_list({STATE_TAG: COMPLETE}))
            step.created()
            return
        tags = {t["Key"]: t["Value"] for page in iam.get_paginator("list_role_tags").paginate(RoleName=role_name) for t in page["Tags"]}
        if half_built(tags, self.names.name):
            step.resume()

        differences = documents.policy_differences(role["AssumeRolePolicyDocument"], trust)
        if differences:
            step.differs(f"trust policy: {'; '.join(differences)}",
                         lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust)))
        current_boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if current_boundary != boundary:
            step.differs(f"permissions boundary is {current_boundary or 'none'}, want {boundary}",
                         lambda: iam.put_role_permissions_boundary(RoleName=role_name, PermissionsBoundary=boundary))
        attached = {p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
                    for p in page["AttachedPolicies"]}
        for policy_arn in policy_arns:
            if policy_arn not in attached:
                step.differs(f"policy {policy_arn} not attached",
                             lambda arn=policy_arn: iam.attach_role_policy(RoleName=role_name, PolicyArn=arn), resumable=True)
        # Permissions someone else granted are reported, never removed: the boundary caps them anyway.
        for extra in sorted(attached - set(policy_arns)):
            step.differs(f"extra managed policy attached: {extra}", None)
        for inline in iam.list_role_policies(RoleName=role_name).get("PolicyNames", []):
            step.differs(f"extra inline policy: {inline}", None)
        if step.resumed():
            iam.tag_role(RoleName=role_name, Tags=tag_list({STATE_TAG: COMPLETE}))

    # -----------------------------------------------------------------------------------------
    # CodeConnections: the GitHub connection of the runner project (moto has no codeconnections)

    def _list_connections(self, codeconnections) -> list[dict]:
        # No boto3 paginator for ListConnections: follow NextToken by hand.
        connections, token = [], None
        while True:
            page = codeconnections.list_connections(**({"NextToken": token} if token else {}))
            connections += page.get("Connections", [])
            token = page.get("NextToken")
            if not token:
                return connections

    def ensure_github_connection(self) -> None:
        """Find ``<name>-github`` by name, or create it. A new connection is PENDING until a human authorises it."""
        codeconnections = self.clients.client("codeconnections")
        name = self.names.connection_name
        step = self._step(name, "codeconnections")  # named by its ARN once that is known
        matches = [c for c in self._list_connections(codeconnections) if c.get("ConnectionName") == name]
        if not matches:
            arn = codeconnections.create_connection(ProviderType=CONNECTION_PROVIDER, ConnectionName=name, Tags=tag_list(self.tags))["ConnectionArn"]
            step.finding.resource = arn
            step.created(f"{name}, {CONNECTION_PROVIDER}, PENDING")
            self.report.connection = {"name": name, "arn": arn, "status": "PENDING"}
            step.to_do("connection is PENDING: authorise it once in the console (GitHub connection, below)", PENDING)
            return
        if len(matches) > 1:
            step.differs(f"{len(matches)} connections are named {name} ({', '.join(c['ConnectionArn'] for c in matches)}); "
                         f"delete all but one in the console", None)
            return
        connection = codeconnections.get_connection(ConnectionArn=matches[0]["ConnectionArn"])["Connection"]
        arn, status, provider = connection["ConnectionArn"], connection.get("ConnectionStatus", "unknown"), connection.get("ProviderType")
        step.finding.resource = arn
        step.finding.note = f"{name}, {provider}, {status}"
        if provider != CONNECTION_PROVIDER:
            step.differs(f"connection {name} is a {provider} connection, want {CONNECTION_PROVIDER}; delete or rename it in the console", None)
            return
        self.report.connection = {"name": name, "arn": arn, "status": status}
        if status == "PENDING":
            step.to_do("connection is PENDING: authorise it once in the console (GitHub connection, below)", PENDING)
        elif status != "AVAILABLE":
            step.to_do(f"connection is {status}: see GitHub connection, below", FAILED)


def _check_stack_matches(stack: PlatformConfig, name: str, environment: str, region: str, *, github: bool) -> None:
    """The stack file must be this environment's, under this --name and --region: the push roles
    are named from them and scoped to its repositories."""
    if not github:
        raise BootstrapInputError("--image-pushers: needs --github-repo (the GitHub OIDC provider and the boundary the push roles carry)")
    for what, theirs, ours in (("environment", stack.environment, environment), ("namePrefix", stack.name_prefix, name),
                               ("aws:region", stack.region, region)):
        if theirs != ours:
            option = {"environment": "--environment", "namePrefix": "--name", "aws:region": "--region"}[what]
            raise BootstrapInputError(f"--image-pushers: the stack file's {what} is {theirs!r}, not {option} {ours!r}")


def _kms_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
