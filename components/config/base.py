"""What every config section shares: the model base, field types checked against AWS, the name rule."""

from __future__ import annotations

import ipaddress
import re
import typing
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from components import facts
from components.config.environments import Environment
from components.config.physical_names import REPLICA_LOG_BUCKET_STEM, github_connection_name, runner_project_name, state_bucket_name

# namePrefix is also bootstrap's --name: the deploy role's S3, KMS-alias, IAM and CodeBuild
# permissions are scoped to <name>-*, so both must accept exactly the same names. The bound is the
# tightest AWS name built from the prefix, for the longest environment name, because a prefix the
# stack cannot use must not get an account bootstrapped for it:
# - S3 buckets <prefix>-<env>-<stem>- plus Terraform's 26-character unique suffix fit S3's 63 (an
#   S3 rule botocore's BucketName shape does not carry); the longest stem, replica-logs, makes
#   this the tightest (15);
# - bootstrap's state bucket <name>-pulumi-state-<account>-<longest region> (63): 22;
# - the CodeConnections connection <name>-github (ConnectionName, 32): 25;
# - the runner's IAM role, <prefix>-<env>-gha-runner plus Pulumi's 8-character suffix (64): 37.
# EKS cluster names (<prefix>-<env>, 100), KMS aliases (256), CodeBuild projects (150) are looser.
# bootstrap's validate_name still checks each name it builds against botocore.
S3_BUCKET_NAME_MAX = int(facts.facts()["s3BucketNaming"]["maxLength"])


def _name_prefix_max() -> int:
    env = max(typing.get_args(Environment), key=len)
    region = max(facts.known_regions(), key=len)
    return min(
        S3_BUCKET_NAME_MAX - facts.PREFIXED_UNIQUE_SUFFIX_LENGTH - len(f"-{env}-{REPLICA_LOG_BUCKET_STEM}-"),
        S3_BUCKET_NAME_MAX - len(state_bucket_name("", "0" * 12, region)),
        int(facts.shape_limits("codeconnections", "ConnectionName")["max"]) - len(github_connection_name("")),
        int(facts.shape_limits("iam", "roleNameType")["max"]) - facts.PULUMI_RANDOM_SUFFIX_LENGTH - len(runner_project_name(f"-{env}")),
    )


def lowercase_name_pattern(min_length: int, max_length: int) -> str:
    """Regex of a name of lowercase letters, digits and '-' that starts with a letter."""
    return rf"^[a-z][a-z0-9-]{{{min_length - 1},{max_length - 1}}}$"


NAME_PREFIX_MIN = 2
NAME_PREFIX_MAX = _name_prefix_max()
NAME_PREFIX_PATTERN = lowercase_name_pattern(NAME_PREFIX_MIN, NAME_PREFIX_MAX)
NAME_PREFIX_RULE = f"{NAME_PREFIX_MIN}-{NAME_PREFIX_MAX} chars of lowercase letters, digits and '-', starting with a letter"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). Zero ("never
# expire") is deliberately absent: every log group here has a retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _ec2_instance_type(value: str) -> str:
    if value not in facts.ec2_instance_types():
        raise ValueError(f"unknown EC2 instance type {value!r} (not in botocore's ec2 InstanceType enum)")
    return value


def _processing_instance_type(value: str) -> str:
    if value not in facts.sagemaker_processing_instance_types():
        raise ValueError(f"unknown processing instance type {value!r} (not in botocore's sagemaker ProcessingInstanceType enum)")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR block ({exc})") from None
    if network.version != 4:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block")
    return str(network)


_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_POLICY_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}$")


def _role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return value


def _policy_arn(value: str) -> str:
    if not _POLICY_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)")
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


Ec2InstanceType = Annotated[str, AfterValidator(_ec2_instance_type)]
Cidr = Annotated[str, AfterValidator(_cidr)]
ProcessingInstanceType = Annotated[str, AfterValidator(_processing_instance_type)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
PolicyArn = Annotated[str, AfterValidator(_policy_arn)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
# Lengths of a tag key (botocore); its characters, the reserved aws: prefix and the platform's own
# keys are checked with every other tag the platform writes (components/config/tags.py).
TagKey = Annotated[str, Field(min_length=facts.tag_rules()["key"]["min"], max_length=facts.tag_rules()["key"]["max"])]


def describe_value(value: typing.Any) -> str:
    """How a stack file's value reads in an error: ``the boolean true``, ``the number 1.3``, ``the string '2'``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"the {type(value).__name__} {value}"  # e.g. an unquoted date, which YAML reads as a date


def repeated(values: list[str]) -> list[str]:
    """The values that occur more than once, sorted: for "must be unique" errors."""
    return sorted({v for v in values if values.count(v) > 1})


def _integer_choices(annotation: object) -> tuple[int, ...] | None:
    """The choices of a ``Literal`` of integers (None for any other annotation)."""
    if typing.get_origin(annotation) is typing.Literal and all(type(a) is int for a in typing.get_args(annotation)):
        return typing.get_args(annotation)
    return None


class Model(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, immutable, and strict
    types, as the stack file is written: no booleans or strings for numbers, no numbers for strings."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integer_choices_are_integers(cls, data: typing.Any) -> typing.Any:
        # Strict mode still lets a Literal[1, 2] take true or 1.0 (they compare equal to 1).
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                choices = _integer_choices(field.annotation)
                key = field.alias or name
                value = data.get(key, data.get(name))
                if choices and value is not None and type(value) is not int:
                    raise ValueError(f"@{key}: must be one of {', '.join(map(str, choices))}, got {describe_value(value)}")
        return data


class Scaling(Model):
    min_size: int = Field(ge=0, description="Fewest nodes/instances.")
    desired_size: int = Field(ge=0, description="Nodes/instances at creation; autoscalers own it afterwards.")
    max_size: int = Field(
        ge=1,
        description=(
            f"Most nodes/instances; a node group allows at most {facts.eks_node_group_quotas()['nodesPerNodeGroup']} (EKS default quota), "
            "and all groups together must fit the private subnets."
        ),
    )

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"@minSize: need minSize <= desiredSize <= maxSize, got {self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        return self
