"""The offline runtime: a stack's program under the Pulumi SDK's mock runtime, without AWS or the CLI.

``stackfile`` reads a stack file as the CLI would; ``harness`` runs a program and records every
registration, answered by the mock outputs of ``mockoutputs``; ``policycheck`` drives the policy
pack over its gRPC Analyzer interface as the engine does; ``cost_report`` prices a recording;
``preview`` puts them together for ``mlopsctl preview`` and ``mlopsctl cost``; ``gctuning`` keeps
the one-shot commands from paying for the garbage collector.
"""
