"""Reliability policies: protected data stores, highly available endpoints, NAT per AZ, alarms that notify,
spot training that resumes from checkpoints.

The analyzer protocol carries ``protect`` but not ``retainOnDelete`` (AnalyzerResourceOptions has
no such field), so retention cannot be checked here; the mock tests assert it and the offline
preview JSON shows it per resource.
"""

from __future__ import annotations

from awsfacts import pipeline_definition as pd
from packlib import (
    BUCKET_TYPES,
    COMPOSITE_ALARM,
    EVENT_API_DESTINATION,
    EVENT_TARGET,
    KMS_KEY_TYPES,
    KMS_REPLICA_KEY_TYPES,
    METRIC_ALARM,
    MISSING,
    NAT_GATEWAY,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIG,
    SAGEMAKER_PIPELINE,
    SUBNET,
    PolicyList,
    Severity,
    as_list,
    is_set,
    is_true,
    lookup,
    number,
    of_types,
    pipeline_definition_of,
    raw,
    resource_label,
)

POLICIES = PolicyList()


@POLICIES.stack(
    "reliability-protect-data-stores",
    "S3 buckets and KMS keys are protected against deletion (protect=True).",
    category="reliability", severity=Severity.HIGH,
    remediation="Set storage.protect: true in the stack file (ArtifactStore passes protect=True and retain_on_delete=True to buckets and keys).",
)
def _check_protected_data_stores(args, report, cfg) -> None:
    for resource in of_types(args.resources, BUCKET_TYPES + KMS_KEY_TYPES + KMS_REPLICA_KEY_TYPES):
        if not resource.opts.protect:
            report(f"{resource_label(resource)} is not protected; `pulumi destroy` or a replacement could delete it.", resource.urn)


def _endpoint_configs(endpoint, resources) -> list:
    """The EndpointConfiguration(s) an endpoint points at, joined through propertyDependencies."""
    deps = endpoint.property_dependencies.get("endpointConfigName") or []
    linked = [d for d in deps if d.resource_type == SAGEMAKER_ENDPOINT_CONFIG]
    if linked:
        return linked
    name = lookup(endpoint.props, "endpointConfigName")
    return [c for c in of_types(resources, (SAGEMAKER_ENDPOINT_CONFIG,)) if lookup(c.props, "name") == name]


@POLICIES.stack(
    "reliability-endpoint-ha",
    "SageMaker endpoints run enough instances and deploy blue/green with CloudWatch rollback alarms.",
    category="reliability", severity=Severity.HIGH,
    config={
        "minInstanceCount": {"type": "integer", "minimum": 1, "default": 2, "description": "Minimum initialInstanceCount of instance-based variants."},
        "requireBlueGreen": {"type": "boolean", "default": True, "description": "Require blue/green deployment with auto-rollback alarms."},
    },
    remediation="Give prod endpoint variants initial_instance_count >= 2 and deployment_config with blue_green_update_policy and auto_rollback_configuration alarms.",
)
def _check_endpoint_ha(args, report, cfg) -> None:
    minimum, require_blue_green = cfg("minInstanceCount"), cfg("requireBlueGreen")
    for endpoint in of_types(args.resources, (SAGEMAKER_ENDPOINT,)):
        configs = _endpoint_configs(endpoint, args.resources)
        if not configs:
            report(f"{resource_label(endpoint)}: its EndpointConfiguration is not in this stack, so its capacity cannot be checked.", endpoint.urn)
        serverless_only = bool(configs)
        for config in configs:
            for variant in as_list(lookup(config.props, "productionVariants")):
                if not is_set(variant, "instanceType"):
                    continue  # serverless: capacity is managed by SageMaker
                serverless_only = False
                count = number(lookup(variant, "initialInstanceCount")) or 0
                if count < minimum:
                    report(f"{resource_label(endpoint)}: variant {lookup(variant, 'variantName')} runs {count:g} instance(s); at least {minimum:g} are needed to survive an AZ or instance failure.", endpoint.urn)
        if serverless_only or not require_blue_green:
            continue
        policy = lookup(endpoint.props, "deploymentConfig", "blueGreenUpdatePolicy")
        if policy is MISSING:
            report(f"{resource_label(endpoint)} has no blue/green deployment policy (deploymentConfig.blueGreenUpdatePolicy).", endpoint.urn)
        alarms = as_list(lookup(endpoint.props, "deploymentConfig", "autoRollbackConfiguration", "alarms"))
        if not alarms:
            report(f"{resource_label(endpoint)} has no rollback alarms (deploymentConfig.autoRollbackConfiguration.alarms).", endpoint.urn)


@POLICIES.stack(
    "reliability-nat-per-az",
    "Every AZ with private subnets has its own NAT gateway.",
    category="reliability", severity=Severity.HIGH,
    remediation="Set network.natGateways: perAz in the stack file.",
)
def _check_nat_per_az(args, report, cfg) -> None:
    nats = [n for n in of_types(args.resources, (NAT_GATEWAY,)) if lookup(n.props, "connectivityType") in (MISSING, "public")]
    nat_subnets = {s.urn for n in nats for s in n.property_dependencies.get("subnetId") or []}
    subnets = [s for s in of_types(args.resources, (SUBNET,)) if s.urn not in nat_subnets and not _is_public(s)]
    private_azs = {_az(s) for s in subnets} - {MISSING}
    if not private_azs:
        return
    if any(lookup(n.props, "availabilityMode") == "regional" for n in nats):
        return  # a regional NAT gateway spans the AZs of the VPC
    covered = set()
    for nat in nats:
        for subnet in nat.property_dependencies.get("subnetId") or []:
            covered.add(_az(subnet))
    missing = sorted(private_azs - covered)
    if missing:
        report(f"private subnets in {missing} have no NAT gateway in their own AZ ({len(nats)} NAT gateway(s) for {len(private_azs)} AZs); an AZ outage would cut their egress.", None)


def _az(subnet):
    zone = lookup(subnet.props, "availabilityZone")
    return zone if zone is not MISSING else lookup(subnet.props, "availabilityZoneId")


def _is_public(subnet) -> bool:
    """Public subnets need no NAT: they auto-assign public IPs or are tagged for internet-facing ELBs."""
    tags = lookup(subnet.props, "tags")
    return lookup(subnet.props, "mapPublicIpOnLaunch") is True or (tags is not MISSING and "kubernetes.io/role/elb" in tags)


@POLICIES.resource(
    "reliability-alarm-actions",
    "CloudWatch metric and composite alarms notify someone: alarm actions set and enabled.",
    types=(METRIC_ALARM, COMPOSITE_ALARM), category="reliability", severity=Severity.HIGH,
    remediation="Pass the stack's alert topic (PlatformAlerts.topic_arn) as alarm_actions and ok_actions, and leave actions_enabled true.",
)
def _check_alarm_actions(args, report, cfg) -> None:
    # An alarm without actions changes state where nobody looks: the rollback it guards happens
    # silently and the failure is found by the users.
    if lookup(args.props, "actionsEnabled") is False:
        report("actionsEnabled is false: the alarm changes state without notifying anyone.")
    actions = raw(lookup(args.props, "alarmActions"))
    if isinstance(actions, str):
        return  # the whole list is computed in this preview
    if not as_list(actions):
        report("the alarm has no alarmActions: nobody is told when it fires. Send it to the stack's alert topic.")


@POLICIES.stack(
    "reliability-api-destination-dead-letters",
    "EventBridge targets that call an HTTP API (API destinations) retry with a stated policy and keep what fails in a dead-letter queue.",
    category="reliability", severity=Severity.HIGH,
    remediation="Give the EventTarget retry_policy (maximum_retry_attempts, maximum_event_age_in_seconds) and dead_letter_config={'arn': <SQS queue ARN>}.",
)
def _check_api_destination_dead_letters(args, report, cfg) -> None:
    # Without a dead-letter queue EventBridge drops an event once its retries are spent: an
    # approval that never reached GitHub would be lost without a trace.
    for target in of_types(args.resources, (EVENT_TARGET,)):
        calls_api = any(d.resource_type == EVENT_API_DESTINATION for d in target.property_dependencies.get("arn") or [])
        if not calls_api:
            continue
        if not is_set(target.props, "deadLetterConfig", "arn"):
            report(f"{resource_label(target)} calls an API destination without deadLetterConfig.arn: events are dropped once retries are spent.", target.urn)
        if not is_set(target.props, "retryPolicy", "maximumRetryAttempts") or not is_set(target.props, "retryPolicy", "maximumEventAgeInSeconds"):
            report(f"{resource_label(target)} calls an API destination without an explicit retryPolicy (maximumRetryAttempts and maximumEventAgeInSeconds).", target.urn)


@POLICIES.resource(
    "reliability-spot-training-checkpoints",
    "Managed spot training steps of a SageMaker pipeline checkpoint to S3 and may wait at least their maximum runtime for capacity.",
    types=(SAGEMAKER_PIPELINE,), category="reliability", severity=Severity.HIGH,
    remediation="Give the training job SpotTraining(checkpoint_s3_uri=<the family's checkpoints/ prefix>, max_wait_seconds >= max_runtime_seconds) "
                "(components/training/pipeline_definition.py), or train on demand.",
)
def _check_spot_training_checkpoints(args, report, cfg) -> None:
    # An interrupted spot job without checkpoints starts over; CreateTrainingJob refuses a
    # MaxWaitTimeInSeconds below MaxRuntimeInSeconds, so every execution would fail at that step.
    definition, problem = pipeline_definition_of(args.props)
    if problem:
        report(f"{problem}, so its spot training cannot be checked.")
    if definition is None:
        return
    for step in pd.steps(definition):
        if step.get("Type") != pd.TRAINING_STEP:
            continue
        arguments = pd.step_arguments(step)
        spot = arguments.get("EnableManagedSpotTraining")
        if spot is None or spot is False or (isinstance(spot, str) and not is_true(spot)):
            continue  # on demand; an expression could turn spot on per execution, so it counts as spot
        label = f"step {step.get('Name', '?')} (managed spot training)"
        checkpoints = pd.dig(arguments, ("CheckpointConfig", "S3Uri"))
        if checkpoints is None or checkpoints == "":
            report(f"{label}: no CheckpointConfig.S3Uri: an interrupted job starts over instead of resuming.")
        runtime = pd.literal_int(pd.dig(arguments, ("StoppingCondition", "MaxRuntimeInSeconds")))
        wait = pd.literal_int(pd.dig(arguments, ("StoppingCondition", "MaxWaitTimeInSeconds")))
        if runtime is None or wait is None:
            report(f"{label}: StoppingCondition needs literal MaxRuntimeInSeconds and MaxWaitTimeInSeconds: the time spot training may wait for capacity plus run.")
        elif wait < runtime:
            report(f"{label}: StoppingCondition.MaxWaitTimeInSeconds ({wait}) is below MaxRuntimeInSeconds ({runtime}); SageMaker refuses the job.")
