"""The in-VPC CodeBuild runner's checks, when ``ciRunner.connectionArn`` makes layer 1 create its project."""

from __future__ import annotations

from mlopsctl.ops.verify.checks import SKIP, Checks, memo

WEBHOOK_EVENT = "WORKFLOW_JOB_QUEUED"


def verify_runner(v: Checks, section: dict, network: dict | None) -> None:
    codebuild = v.clients.client("codebuild")
    runner = v.config.ci_runner
    name = section["projectName"]
    resource = f"codebuild project {name}"
    project = memo(lambda: (codebuild.batch_get_projects(names=[name]).get("projects") or [None])[0])

    def exists():
        found = project()
        return (True, f"project {found.get('arn')}") if found else (False, f"no CodeBuild project {name} in {v.config.region}")

    def source():
        found = project()
        if not found:
            return False, f"no CodeBuild project {name}"
        src = found.get("source") or {}
        auth = src.get("auth") or {}
        wanted_location = f"https://github.com/{runner.github_repo}.git"
        problems = []
        if src.get("location") != wanted_location:
            problems.append(f"source is {src.get('location') or 'unset'}, config says {wanted_location}")
        if (auth.get("type"), auth.get("resource")) != ("CODECONNECTIONS", runner.connection_arn):
            problems.append(f"source auth is {auth.get('type') or 'none'} {auth.get('resource') or ''}".rstrip()
                            + f", config says CODECONNECTIONS {runner.connection_arn}")
        return (False, "; ".join(problems)) if problems else (True, f"{wanted_location} through {runner.connection_arn}")

    def vpc():
        found = project()
        if not found:
            return False, f"no CodeBuild project {name}"
        config = found.get("vpcConfig") or {}
        problems = []
        if section["securityGroupId"] not in (config.get("securityGroupIds") or []):
            problems.append(f"security groups {config.get('securityGroupIds') or 'none'} lack the runner's {section['securityGroupId']}")
        if network is None:
            problems.append("the outputs have no network section to compare the VPC with")
        else:
            if config.get("vpcId") != network["vpcId"]:
                problems.append(f"runs in {config.get('vpcId') or 'no VPC'}, want {network['vpcId']}")
            outside = sorted(set(config.get("subnets") or []) - set(network["privateSubnetIds"]))
            if outside or not config.get("subnets"):
                problems.append(f"subnets {', '.join(outside) or 'none'} are not the private subnets")
        return (False, "; ".join(problems)) if problems else (True, f"in {config['vpcId']}, private subnets, security group {section['securityGroupId']}")

    def webhook():
        if not runner.webhook:
            return SKIP, "ciRunner.webhook is false: no webhook to check"
        found = project()
        if not found:
            return False, f"no CodeBuild project {name}"
        hook = found.get("webhook")
        if not hook:
            return False, "the project has no webhook; config sets ciRunner.webhook: true"
        actors = f"^({'|'.join(str(a) for a in runner.allowed_actor_ids)})$"
        for group in hook.get("filterGroups") or []:
            filters = {(f.get("type"), f.get("pattern")) for f in group}
            if ("EVENT", WEBHOOK_EVENT) in filters and ("ACTOR_ACCOUNT_ID", actors) in filters:
                return True, f"{WEBHOOK_EVENT} from actors {actors} only"
        return False, f"no webhook filter group of {WEBHOOK_EVENT} limited to ACTOR_ACCOUNT_ID {actors}"

    v.check("ciRunner.project", resource, exists)
    v.check("ciRunner.source", resource, source)
    v.check("ciRunner.vpc", resource, vpc)
    v.check("ciRunner.webhook", resource, webhook)
