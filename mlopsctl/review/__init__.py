"""Pull-request tooling on top of the offline preview.

``diff`` compares a stack's preview at a git ref with the working tree (``mlopsctl diff``, the PR
comment); ``upgrades`` judges Kubernetes version changes, which only a comparison can see;
``docsgen`` and ``policydata`` regenerate the docs blocks and pack data files that tests keep in
sync with the code.
"""
