"""``mlopsctl bootstrap``: create or confirm the account-level pieces every stack relies on.

One AWS account per environment: bootstrap runs once in each account, with ``--environment``.
The state bucket and secrets key are per account and region, so each environment's account holds
its own stacks' state; the CI roles created are that environment's deploy and preview roles.

Each resource is read first and compared with what bootstrap wants. Missing -> created.
Matching -> left alone. Different -> every difference is reported; only with ``fix=True`` are
the fixable ones corrected. Bootstrap never deletes objects or object versions, never repoints
the secrets alias (the old key still decrypts existing stacks' secrets) and never removes
statements, lifecycle rules or permissions that someone else added: it adds or replaces only
its own (by Sid, rule ID or policy ARN) and reports the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.config import PROJECT
from mlopsctl import cipolicies as cp
from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, default_encryption_rule, describe_aws_error, error_code

LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
# Overwritten or deleted state objects stay recoverable this long. Pulumi's self-managed backend
# also writes every checkpoint to .pulumi/history/ as a current object, so older states remain.
NONCURRENT_STATE_DAYS = 90
ABORT_MULTIPART_DAYS = 7
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}

OK, CREATED, DRIFT, FIXED = "ok", "created", "drift", "fixed"
# Outstanding steps only a human can take (no --fix): a GitHub connection waiting for its console
# authorisation, or one in ERROR.
PENDING, FAILED = "pending", "failed"

CONNECTION_PROVIDER = "GitHub"

# Layer 2: the in-cluster Kubernetes resources, a second Pulumi project in the same state backend.
INCLUSTER_PROJECT = f"{PROJECT}-incluster"
INCLUSTER_DIR = "incluster"


@dataclass
class Finding:
    """One resource's outcome. ``differences`` are human lines; ``unfixed`` those still wrong."""

    resource: str
    kind: str  # e.g. "s3-bucket", "kms-alias", "iam-role"
    status: str = OK
    differences: list[str] = field(default_factory=list)
    unfixed: list[str] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "kind": self.kind, "status": self.status,
                "differences": self.differences, "unfixed": self.unfixed, "note": self.note}


@dataclass
class BootstrapReport:
    names: cp.Names
    environment: str
    github_repo: str | None
    findings: list[Finding] = field(default_factory=list)
    key_arn: str | None = None
    error: str | None = None
    # With --github-connection: {"name", "arn", "status"} of the connection, once found or created.
    connection: dict[str, str] | None = None

    @property
    def changed(self) -> bool:
        return any(f.status in (CREATED, FIXED) for f in self.findings)

    @property
    def outstanding(self) -> list[Finding]:
        return [f for f in self.findings if f.unfixed]

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
            f"pulumi stack init organization/{INCLUSTER_PROJECT}/{env} --secrets-provider '{secrets}' --cwd {INCLUSTER_DIR}",
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
            variable("environment", "CODEBUILD_RUNNER_PROJECT", cp.runner_project_name(n.name, env),
                     "suggested; the stack output ciRunner.projectName is authoritative"),
            variable("repository", f"AWS_PREVIEW_ROLE_ARN_{suffix}", roles["preview"]),
            variable("repository", f"PULUMI_BACKEND_URL_{suffix}", n.login_url()),
        ]

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
            "findings": [f.to_json() for f in self.findings],
        }


class _Step:
    """Collect differences for one resource and apply fixes when allowed."""

    def __init__(self, report: BootstrapReport, resource: str, kind: str, fix: bool):
        self.finding = Finding(resource=resource, kind=kind)
        self.fix = fix
        report.findings.append(self.finding)

    def created(self, note: str = "") -> None:
        self.finding.status = CREATED
        self.finding.note = note

    def differs(self, description: str, fixer: Callable[[], None] | None) -> None:
        """Record a difference; apply ``fixer`` only with --fix. ``None`` means never auto-fixed."""
        if fixer is None:
            description += " (not fixed automatically)"
        self.finding.differences.append(description)
        if self.fix and fixer is not None:
            fixer()
        else:
            self.finding.unfixed.append(description)
        self.finding.status = DRIFT if self.finding.unfixed else FIXED

    def to_do(self, description: str, status: str) -> None:
        """A step only a human can take: outstanding (exit 1) until done; a new resource stays ``created``."""
        self.finding.differences.append(description)
        self.finding.unfixed.append(description)
        if self.finding.status != CREATED:
            self.finding.status = status


def _tags_kv(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class Bootstrapper:
    def __init__(self, clients: AwsClients, name: str, environment: str, github_repo: str | None = None, fix: bool = False,
                 github_connection: bool = False):
        self.clients = clients
        self.fix = fix
        self.github_connection = github_connection
        # Every argument is checked before the first AWS call.
        self.environment = cp.validate_environment(environment)
        cp.validate_name(name, clients.region)
        self.github = cp.parse_github_repo(github_repo) if github_repo is not None else None
        identity = clients.client("sts").get_caller_identity()
        partition = identity["Arn"].split(":")[1]
        self.names = cp.Names(name=name, account=identity["Account"], region=clients.region, partition=partition)
        self.tags = {**cp.BOOTSTRAP_TAGS, "mlopsctl:bootstrap-name": name}
        self.report = BootstrapReport(names=self.names, environment=environment, github_repo=github_repo)

    def run(self) -> BootstrapReport:
        step = "secrets key"
        try:
            self.report.key_arn = self.ensure_secrets_key()
            step = "state bucket"
            self.ensure_state_bucket(self.report.key_arn)
            if self.github:
                step = "GitHub OIDC provider"
                self.ensure_oidc_provider()
                step = "CI policies"
                self.ensure_ci_policies(self.report.key_arn)
                step = "CI roles"
                self.ensure_ci_roles()
            if self.github_connection:
                step = "GitHub connection"
                self.ensure_github_connection()
        except AWS_ERRORS as exc:
            self.report.error = f"stopped at {step}: {describe_aws_error(exc)}"
        return self.report

    # -----------------------------------------------------------------------------------------
    # KMS

    def _find_alias(self, kms) -> dict | None:
        for page in kms.get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                if alias["AliasName"] == self.names.key_alias:
                    return alias
        return None

    def ensure_secrets_key(self) -> str:
        kms = self.clients.client("kms")
        step = _Step(self.report, self.names.key_alias, "kms-alias", self.fix)
        alias = self._find_alias(kms)
        if alias is None or not alias.get("TargetKeyId"):
            key = kms.create_key(
                Description=f"Pulumi secrets provider and state bucket encryption ({self.names.name})",
                KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT",
                Tags=[{"TagKey": k, "TagValue": v} for k, v in self.tags.items()],
            )["KeyMetadata"]
            kms.enable_key_rotation(KeyId=key["KeyId"])
            kms.create_alias(AliasName=self.names.key_alias, TargetKeyId=key["KeyId"])
            step.created(f"key {key['Arn']} with rotation on")
            return key["Arn"]

        meta = kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]
        key_id, key_arn = meta["KeyId"], meta["Arn"]
        step.finding.note = f"key {key_arn}"
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
            step.differs("automatic key rotation is off", lambda: kms.enable_key_rotation(KeyId=key_id))
        return key_arn

    # -----------------------------------------------------------------------------------------
    # S3

    def _bucket_exists(self, s3) -> bool:
        try:
            s3.head_bucket(Bucket=self.names.state_bucket)
            return True
        except AWS_ERRORS as exc:
            if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def _desired_encryption(self, key_arn: str) -> dict:
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                           "BucketKeyEnabled": True}]}

    def _desired_lifecycle_rule(self) -> dict:
        return {
            "ID": LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_STATE_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        }

    def ensure_state_bucket(self, key_arn: str) -> None:
        s3 = self.clients.client("s3")
        bucket = self.names.state_bucket
        step = _Step(self.report, f"s3://{bucket}", "s3-bucket", self.fix)
        if not self._bucket_exists(s3):
            create: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
            if self.names.region != "us-east-1":
                create["CreateBucketConfiguration"] = {"LocationConstraint": self.names.region}
            s3.create_bucket(**create)
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=self._desired_encryption(key_arn))
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": cp.tls_only_statements(self.names)}))
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [self._desired_lifecycle_rule()]})
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags_kv(self.tags)})
            step.created("versioned, SSE-KMS, public access blocked, TLS-only, noncurrent versions expire")
            return

        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        location = "eu-west-1" if location == "EU" else location
        if location != self.names.region:
            step.differs(f"bucket is in {location}, not {self.names.region}", None)

        status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
        if status != "Enabled":
            step.differs(f"versioning is {status}, want Enabled",
                         lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}))

        self._check_encryption(s3, step, key_arn)
        self._check_public_access_block(s3, step)
        self._check_ownership(s3, step)
        self._check_policy(s3, step)
        self._check_lifecycle(s3, step)

    def _check_encryption(self, s3, step: _Step, key_arn: str) -> None:
        bucket = self.names.state_bucket
        rule = default_encryption_rule(s3, bucket)
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        algorithm, key = default.get("SSEAlgorithm", "none"), default.get("KMSMasterKeyID")
        wrong = []
        if algorithm != "aws:kms":
            wrong.append(f"default encryption is {algorithm}, want aws:kms")
        elif key not in (key_arn, key_arn.rsplit("/", 1)[-1], self.names.key_alias, self.names.key_alias_arn):
            wrong.append(f"default encryption key is {key or 'the AWS-managed aws/s3 key'}, want {key_arn}")
        if algorithm == "aws:kms" and not rule.get("BucketKeyEnabled"):
            wrong.append("S3 bucket key is off, want on (fewer KMS requests)")
        if wrong:
            # Changes the default for new objects only; existing objects keep their encryption.
            step.differs("; ".join(wrong), lambda: s3.put_bucket_encryption(
                Bucket=bucket, ServerSideEncryptionConfiguration=self._desired_encryption(key_arn)))

    def _check_public_access_block(self, s3, step: _Step) -> None:
        bucket = self.names.state_bucket
        try:
            current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            current = {}
        off = [flag for flag in PUBLIC_ACCESS_BLOCK if not current.get(flag)]
        if off:
            step.differs(f"public access block off: {', '.join(off)}",
                         lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK))

    def _check_ownership(self, s3, step: _Step) -> None:
        bucket = self.names.state_bucket
        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "OwnershipControlsNotFoundError":
                raise
            rules = []
        ownership = rules[0]["ObjectOwnership"] if rules else "none (ACLs enabled)"
        if ownership != "BucketOwnerEnforced":
            step.differs(f"object ownership is {ownership}, want BucketOwnerEnforced (ACLs disabled)",
                         lambda: s3.put_bucket_ownership_controls(
                             Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}))

    def _check_policy(self, s3, step: _Step) -> None:
        bucket = self.names.state_bucket
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchBucketPolicy":
                raise
            policy = {"Version": "2012-10-17", "Statement": []}
        statements = policy.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        by_sid = {s.get("Sid"): s for s in statements}
        wanted = cp.tls_only_statements(self.names)
        wrong = [s["Sid"] for s in wanted if s["Sid"] not in by_sid or cp.canonical_policy({"Statement": [by_sid[s["Sid"]]]})
                 != cp.canonical_policy({"Statement": [s]})]
        if wrong:
            def merge() -> None:
                # Our statements replace theirs by Sid; everyone else's statements stay.
                kept = [s for s in statements if s.get("Sid") not in {w["Sid"] for w in wanted}]
                s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": kept + wanted}))

            step.differs(f"bucket policy lacks TLS-only statement(s) {', '.join(wrong)}", merge)

    def _check_lifecycle(self, s3, step: _Step) -> None:
        bucket = self.names.state_bucket
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        wanted = self._desired_lifecycle_rule()
        ours = next((r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID), None)
        if ours is None or not _lifecycle_matches(ours, wanted):
            def merge() -> None:
                kept = [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID]
                s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": kept + [wanted]})

            what = "missing" if ours is None else "differs"
            step.differs(f"lifecycle rule {LIFECYCLE_RULE_ID} {what} (want noncurrent state versions to expire after "
                         f"{NONCURRENT_STATE_DAYS} days)", merge)
        for rule in rules:
            if rule.get("Status") == "Enabled" and rule.get("Expiration") and rule.get("ID") != LIFECYCLE_RULE_ID:
                step.differs(f"lifecycle rule {rule.get('ID')!r} expires current objects, which would delete live state; remove it", None)

    # -----------------------------------------------------------------------------------------
    # IAM

    def ensure_oidc_provider(self) -> None:
        iam = self.clients.client("iam")
        arn = self.names.oidc_provider_arn
        step = _Step(self.report, arn, "iam-oidc-provider", self.fix)
        existing = {p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])}
        if arn not in existing:
            # No thumbprint: IAM trusts GitHub's OIDC endpoint through its library of root CAs.
            iam.create_open_id_connect_provider(Url=cp.GITHUB_OIDC_URL, ClientIDList=[cp.GITHUB_OIDC_AUDIENCE], Tags=_tags_kv(self.tags))
            step.created()
            return
        step.finding.note = "reused the account's existing provider"
        audiences = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn).get("ClientIDList", [])
        if cp.GITHUB_OIDC_AUDIENCE not in audiences:
            step.differs(f"audience {cp.GITHUB_OIDC_AUDIENCE} not in client IDs {audiences}",
                         lambda: iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=cp.GITHUB_OIDC_AUDIENCE))

    def ensure_ci_policies(self, key_arn: str) -> None:
        n = self.names
        self._ensure_managed_policy(n.boundary_policy, cp.boundary_policy(n, key_arn), "Permissions boundary of the CI roles and of every role the platform creates")
        self._ensure_managed_policy(n.deploy_policy, cp.deploy_policy(n, key_arn), "What pulumi up of the mlops platform needs")
        self._ensure_managed_policy(n.preview_policy, cp.preview_policy(n, key_arn), "Read-only: pulumi preview of the mlops platform")

    def _ensure_managed_policy(self, name: str, document: dict, description: str) -> None:
        iam = self.clients.client("iam")
        arn = self.names.policy_arn(name)
        step = _Step(self.report, arn, "iam-policy", self.fix)
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document), Description=description, Tags=_tags_kv(self.tags))
            step.created()
            return
        current = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
        differences = cp.policy_differences(current, document)
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
        self._ensure_role(n.deploy_role(env), cp.github_trust_policy(n, cp.deploy_subject(org, repo, env)),
                          n.policy_arn(n.deploy_policy), f"GitHub Actions deploy role for the {env} environment of {org}/{repo}")
        self._ensure_role(n.preview_role(env), cp.github_trust_policy(n, cp.preview_subject(org, repo)),
                          n.policy_arn(n.preview_policy), f"GitHub Actions read-only preview role of stack {env} for pull requests of {org}/{repo}")
        self._report_legacy_preview_role()

    def _report_legacy_preview_role(self) -> None:
        """An account bootstrapped before preview roles were per environment still has ``<name>-preview``."""
        iam = self.clients.client("iam")
        n = self.names
        try:
            iam.get_role(RoleName=n.legacy_preview_role)
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return
        step = _Step(self.report, n.role_arn(n.legacy_preview_role), "iam-role", self.fix)
        step.differs(f"legacy preview role shared by every environment: pull requests now assume {n.preview_role(self.environment)}; "
                     f"delete it once no workflow reads AWS_PREVIEW_ROLE_ARN", None)

    def _ensure_role(self, role_name: str, trust: dict, policy_arn: str, description: str) -> None:
        iam = self.clients.client("iam")
        boundary = self.names.policy_arn(self.names.boundary_policy)
        step = _Step(self.report, self.names.role_arn(role_name), "iam-role", self.fix)
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), Description=description,
                            PermissionsBoundary=boundary, MaxSessionDuration=3600, Tags=_tags_kv(self.tags))
            iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
            step.created()
            return

        differences = cp.policy_differences(role["AssumeRolePolicyDocument"], trust)
        if differences:
            step.differs(f"trust policy: {'; '.join(differences)}",
                         lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust)))
        current_boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if current_boundary != boundary:
            step.differs(f"permissions boundary is {current_boundary or 'none'}, want {boundary}",
                         lambda: iam.put_role_permissions_boundary(RoleName=role_name, PermissionsBoundary=boundary))
        attached = {p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
                    for p in page["AttachedPolicies"]}
        if policy_arn not in attached:
            step.differs(f"policy {policy_arn} not attached", lambda: iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn))
        # Permissions someone else granted are reported, never removed: the boundary caps them anyway.
        for extra in sorted(attached - {policy_arn}):
            step.differs(f"extra managed policy attached: {extra}", None)
        for inline in iam.list_role_policies(RoleName=role_name).get("PolicyNames", []):
            step.differs(f"extra inline policy: {inline}", None)

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
        matches = [c for c in self._list_connections(codeconnections) if c.get("ConnectionName") == name]
        if not matches:
            arn = codeconnections.create_connection(ProviderType=CONNECTION_PROVIDER, ConnectionName=name, Tags=_tags_kv(self.tags))["ConnectionArn"]
            step = _Step(self.report, arn, "codeconnections", self.fix)
            step.created(f"{name}, {CONNECTION_PROVIDER}, PENDING")
            self.report.connection = {"name": name, "arn": arn, "status": "PENDING"}
            step.to_do("connection is PENDING: authorise it once in the console (GitHub connection, below)", PENDING)
            return
        if len(matches) > 1:
            step = _Step(self.report, name, "codeconnections", self.fix)
            step.differs(f"{len(matches)} connections are named {name} ({', '.join(c['ConnectionArn'] for c in matches)}); "
                         f"delete all but one in the console", None)
            return
        connection = codeconnections.get_connection(ConnectionArn=matches[0]["ConnectionArn"])["Connection"]
        arn, status, provider = connection["ConnectionArn"], connection.get("ConnectionStatus", "unknown"), connection.get("ProviderType")
        step = _Step(self.report, arn, "codeconnections", self.fix)
        step.finding.note = f"{name}, {provider}, {status}"
        if provider != CONNECTION_PROVIDER:
            step.differs(f"connection {name} is a {provider} connection, want {CONNECTION_PROVIDER}; delete or rename it in the console", None)
            return
        self.report.connection = {"name": name, "arn": arn, "status": status}
        if status == "PENDING":
            step.to_do("connection is PENDING: authorise it once in the console (GitHub connection, below)", PENDING)
        elif status != "AVAILABLE":
            step.to_do(f"connection is {status}: see GitHub connection, below", FAILED)


# ---------------------------------------------------------------------------------------------


def _lifecycle_matches(actual: dict, wanted: dict) -> bool:
    def shape(rule: dict) -> tuple:
        prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
        nve = rule.get("NoncurrentVersionExpiration") or {}
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        return (rule.get("Status"), prefix or "", nve.get("NoncurrentDays"), abort.get("DaysAfterInitiation"), bool(rule.get("Expiration")))

    return shape(actual) == shape(wanted)


def render_text(report: BootstrapReport, fix: bool) -> str:
    n, env = report.names, report.environment
    out = [f"Bootstrap '{n.name}' for environment {env} in account {n.account}, region {n.region}", ""]
    for f in report.findings:
        label = {OK: "ok     ", CREATED: "created", FIXED: "fixed  ", DRIFT: "DRIFT  ", PENDING: "PENDING", FAILED: "FAILED "}[f.status]
        out.append(f"  {label} {f.kind:18} {f.resource}" + (f"  ({f.note})" if f.note else ""))
        for difference in f.differences:
            mark = "fixed" if difference not in f.unfixed else "differs" if f.status == DRIFT else "failed" if f.status == FAILED else "to do"
            out.append(f"            - {mark}: {difference}")
    out.append("")
    if report.error:
        out.append(f"ERROR: {report.error}")
        return "\n".join(out) + "\n"
    differences = sum(len(f.unfixed) for f in report.outstanding if f.status == DRIFT)
    if differences:
        hint = "" if fix else " Re-run with --fix to correct the fixable ones."
        out.append(f"{differences} difference(s) remain.{hint}")
    if report.connection and report.connection["status"] != "AVAILABLE":
        out.append(f"The GitHub connection {report.connection['name']} is {report.connection['status']}: see GitHub connection, below.")
    if not report.outstanding:
        out.append("Done." if report.changed else "No changes: everything already matches.")
    others = " and ".join(e for e in cp.ENVIRONMENTS if e != env)
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
    if report.connection:
        c = report.connection
        out += ["", f"GitHub connection {c['name']} ({c['arn']}): {c['status']}"] + [f"  {line}" for line in report.connection_steps()]
    return "\n".join(out) + "\n"
