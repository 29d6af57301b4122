"""Offline change diff: what a pull request changes in a stack, without AWS or the Pulumi CLI.

``mlopsctl diff --stack <env> --base <git-ref>`` previews the stack twice with the offline preview
(``mlopsctl preview --format json``): at the base ref, in a temporary detached git worktree running
the base's own code in a subprocess of the same interpreter, and at the working tree, in this
process while the base runs. Resources are matched by URN:

- create / delete: a URN on one side only;
- update: changed wire-format input paths (``scalingConfig.desiredSize: 1 -> 2``) and changed
  resource options (protect, retainOnDelete, ignoreChanges, provider, ...).

What mocks cannot tell: no provider diff runs, so whether AWS updates in place or replaces is
unknown. An update touching an input listed in ``review/data/replace_on_change.json`` (Terraform
``ForceNew`` inputs, with sources) is labelled ``update (may replace)``; one touching a path in the
resource's own ``replaceOnChanges`` option is a certain ``replace``. Everything else may still be a
replacement the table does not know about.

Secrets never show: wire-format secrets, inputs named like credentials and the resource's
``additionalSecretOutputs`` are masked, and stack-file ``secure:`` values are only named.

``run`` makes the two previews, ``compare`` matches and explains them (resources, cost, policy,
secret config, Kubernetes upgrades), ``render`` writes the terminal text and the PR comment.
"""
