"""Drive the policy pack over its real gRPC Analyzer interface, the way the Pulumi engine does.

``python policies/__main__.py`` starts the pack's Analyzer server and prints its port. This package
starts that process, then for a recorded program run (:class:`mlopsctl.offline.harness.Recording`):

1. ``GetAnalyzerInfo``, then ``Configure`` with the per-environment config file reconciled like the
   engine's ``ReconcilePolicyPackConfig`` (schema defaults, then ``all``, then per-policy entries;
   validated against each policy's config schema);
2. ``ConfigureStack`` (stack, project, dry run, stack config);
3. per custom resource, in registration order: ``Remediate`` then ``Analyze`` on the remediated
   inputs (the step generator's two passes), with the resource options and its provider (type,
   URN, name, recorded inputs) attached;
4. ``AnalyzeStack`` once with every resource, its parent, dependencies and propertyDependencies.

What differs from a real engine run, and why it does not matter to this pack: the engine sends
inputs after the provider's ``Check`` (which may add defaults and auto-names) and, for
``AnalyzeStack``, outputs (inputs plus computed values, unknown in a preview); we send the
program's inputs for both. The policies read inputs only and treat absent values as AWS defaults.

``config`` reconciles a config file as the engine does, ``requests`` builds the engine's Analyzer
requests from recorded registrations, ``process`` runs the pack and drives it, and ``report``
holds what it found.
"""

from __future__ import annotations


def analyzer_proto():
    """The generated Analyzer protobuf modules, imported on first use (grpc is a slow import)."""
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    return analyzer_pb2, analyzer_pb2_grpc
