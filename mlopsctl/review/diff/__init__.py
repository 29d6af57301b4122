"""Offline change diff: what a pull request changes in a stack, without AWS or the Pulumi CLI.

``mlopsctl diff --stack <env> --base <git-ref>`` previews the stack twice with the offline preview
(``mlopsctl preview --format json``): at the base ref, in a temporary detached git worktree running
the base's own code in a subprocess of the same interpreter, and at the working tree, in this
process while the base runs. Resources are matched by URN:

- create / delete: a URN on one side only;
- update: changed wire-format input paths (``scalingConfig.desiredSize: 1 -> 2``) and changed
  resource options (protect, retainOnDelete, ignoreChanges, provider, ...).

What mocks cannot tell, the replace facts do: no provider diff runs, so whether AWS updates in
place or replaces comes from ``review/data/replace_on_change.json`` (derived from each provider's
source, one entry per registered type). A changed replace fact, or a path in the resource's own
``replaceOnChanges``, is a ``replace``; a conditional or unverified fact is ``update (may
replace)``. Each replacement drags along the resources whose inputs were built from its outputs
(the recorded property dependencies): replaced where that input is a replace fact of theirs, else
updated. In staging and prod, replacing a protected or data-holding resource is refused (exit 1).

Secrets never show: wire-format secrets, inputs named like credentials and the resource's
``additionalSecretOutputs`` are masked, and stack-file ``secure:`` values are only named.

``run`` makes the two previews, ``compare`` matches and explains them (resources, cost, policy,
secret config, Kubernetes upgrades) into ``model``'s ``StackDiff``, ``replace_rules`` reads the
facts, ``blast`` follows the replacements, ``render`` and ``graph`` write the terminal text and the
PR comment.
"""
