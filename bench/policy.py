"""Benchmark: time the policy pack adds to the offline preview (target: <= 1 s on the prod stack).

Two views:
- end to end: ``python -m mlopsctl preview --stack <s> --format json`` with and without the pack
  (``--no-policy``), median of N child processes; the difference is what a user waits for;
- in process, one pack: start-up (overlapped with the program run in the CLI), Configure, and
  Analyze/Remediate/AnalyzeStack over the stack's resources, plus the same over a synthetic
  program of ``--synthetic`` resources (secure S3 buckets with their companion resources) to show
  how the cost grows with stack size.

    .venv/bin/python bench/policy.py [--repeat N] [--stack prod] [--synthetic 300]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode})")
    return time.perf_counter() - start


def synthetic_program(buckets: int):
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(tags={"environment": "prod", "owner": "o", "cost-center": "c", "managed-by": "pulumi", "project": "p"}))
        opts = pulumi.ResourceOptions(provider=provider, protect=True)
        key = aws.kms.Key("key", enable_key_rotation=True, deletion_window_in_days=30, opts=opts)
        logs = aws.s3.Bucket("logs", opts=opts)
        for i in range(buckets):
            bucket = aws.s3.Bucket(f"b{i}", opts=opts)
            aws.s3.BucketPublicAccessBlock(f"b{i}-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
            aws.s3.BucketServerSideEncryptionConfiguration(f"b{i}-sse", bucket=bucket.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}], opts=opts)
            aws.s3.BucketVersioning(f"b{i}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts)
            aws.s3.BucketLogging(f"b{i}-logging", bucket=bucket.id, target_bucket=logs.id, target_prefix=f"b{i}/", opts=opts)

    return program


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--synthetic", type=int, default=60, help="S3 buckets in the synthetic program (5 resources each)")
    args = parser.parse_args()

    from mlopsctl.offline.harness import run_program
    from mlopsctl.offline.policycheck.config import config_path
    from mlopsctl.offline.policycheck.process import PolicyPackProcess
    from mlopsctl.offline.preview import preview_stack

    base = [sys.executable, "-m", "mlopsctl", "preview", "--stack", args.stack, "--format", "json"]
    without = [wall([*base, "--no-policy"]) for _ in range(args.repeat)]
    with_pack = [wall(base) for _ in range(args.repeat)]
    print(f"end to end, stack {args.stack} (median of {args.repeat}):")
    print(f"  preview without pack  {statistics.median(without):6.2f} s")
    print(f"  preview with pack     {statistics.median(with_pack):6.2f} s")
    print(f"  added by the pack     {statistics.median(with_pack) - statistics.median(without):6.2f} s   (target <= 1.00 s)")

    result = preview_stack(args.stack)
    environment = result.config.environment
    started = time.perf_counter()
    pack = PolicyPackProcess().start()
    startup = time.perf_counter() - started
    try:
        started = time.perf_counter()
        pack.configure(config_path(environment))
        configure = time.perf_counter() - started
        runs = [pack.analyze(result.recording) for _ in range(args.repeat)]
        synthetic = run_program(synthetic_program(args.synthetic), stack="prod", project="mlops-platform", config={"aws:region": "us-east-1"})
        synthetic_runs = [pack.analyze(synthetic) for _ in range(args.repeat)]
    finally:
        pack.close()
    custom = sum(1 for r in result.recording.resources if r.custom)
    print(f"\nin process, one pack ({len(pack.info.policies) if pack.info else '?'} policies):")
    print(f"  pack start-up (overlapped with the program run in the CLI)  {startup:6.3f} s")
    print(f"  Configure ({environment}.json)                                {configure:6.3f} s")
    print(f"  analyze {args.stack}: {len(result.recording.resources)} resources ({custom} custom)        {statistics.median(r.seconds for r in runs):6.3f} s")
    print(f"  analyze synthetic: {len(synthetic.resources)} resources                   {statistics.median(r.seconds for r in synthetic_runs):6.3f} s")


if __name__ == "__main__":
    main()
