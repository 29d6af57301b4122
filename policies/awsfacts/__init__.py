"""Facts shared by the Pulumi program, ``mlopsctl`` and the policy pack; standard library only.

The pack runs as its own process from this folder (``pulumi preview --policy-pack policies``) and
imports this package as ``awsfacts``; the repository imports it as ``policies.awsfacts``. Both
read the same files here, so a fact has one home.
"""

# The project's name: Pulumi.yaml's ``name``, the pack's name, tag values and label prefixes, and
# the on-disk cache folder. Here because the pack cannot import ``components``.
PROJECT = "mlops-platform"

# Application Auto Scaling's dimension of a SageMaker variant's instance count: the program scales
# on it, the cost model joins targets by it, ``mlopsctl verify`` reads it back.
SAGEMAKER_VARIANT_SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"

# Tag of the alert topic carrying its expected monthly messages (``alerts.expectedNotificationsPerMonth``):
# the program writes it, the cost model prices the topic's publishes and deliveries from it, so the
# preview's cost and the pack's budget see the same volume.
EXPECTED_NOTIFICATIONS_TAG = "mlops:expected-notifications-per-month"
# The tag on each ECR repository that carries the storage its stack file plans for it
# (``images.repositories[].expectedStorageGb``): the program writes it, the cost model prices it,
# since a resource's inputs are all the pack and the cost model see of a stack.
EXPECTED_STORAGE_GB_TAG = "mlops:expected-storage-gb"
# The tag on each approval-dispatch rule carrying the approvals its stack file expects a month
# (``promotion.expectedApprovalsPerMonth``): the cost model prices the API destination's
# invocations and the dead-letter queue's requests from it.
EXPECTED_DISPATCHES_TAG = "mlops:expected-dispatches-per-month"
# The tag on each retraining pipeline carrying the runs a month its stack file plans
# (``expectedRunsPerMonth``, else the most the retrain guard lets through): the cost model
# multiplies each step's maximum runtime by it, since how often a pipeline runs is nowhere in its inputs.
EXPECTED_TRAINING_RUNS_TAG = "mlops:expected-training-runs-per-month"
# What a resource is for, where its type alone does not say: image repositories
# (``training-images``, ``serving-images``) and the training pipelines' execution roles, which the
# pack's iam-pipeline-role-no-wildcards finds by it and holds to no wildcard SageMaker or PassRole permission.
ROLE_TAG = "mlops:role"
PIPELINE_ROLE_TAG_VALUE = "training-pipeline"
# EventBridge encrypts a connection's secret with a customer-managed key only when the key carries
# this tag set to "true" (EventBridge guide, "Encrypting EventBridge connection authorization with
# AWS KMS keys"); the keys component writes it, extraTags may not.
EVENTBRIDGE_CONNECTION_KEY_TAG = "EventBridgeApiDestinations"
