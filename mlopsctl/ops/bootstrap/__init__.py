"""``mlopsctl bootstrap``: create or confirm the account-level pieces every stack relies on.

One AWS account per environment: bootstrap runs once in each account, with ``--environment``.
The state bucket and secrets key are per account and region, so each environment's account holds
its own stacks' state; the CI roles created are that environment's deploy and preview roles.

Each resource is read first and compared with what bootstrap wants. Missing -> created.
Matching -> left alone. Different -> every difference is reported; only with ``fix=True`` are
the fixable ones corrected. Bootstrap never deletes objects or object versions, never repoints
the secrets alias (the old key still decrypts existing stacks' secrets) and never removes
statements, lifecycle rules or permissions that someone else added: it adds or replaces only
its own (by Sid, rule ID or policy ARN) and reports the rest.

Account-level resources (shared by every stack, and the identities that deploy stacks) are made
here rather than in the Pulumi program: a stack must not own the role that deploys it.

``names`` holds every physical name and checks the arguments, ``documents`` the IAM and S3
policy documents, ``state_bucket`` the state bucket's settings, ``run`` the run itself and
``report`` what it found and what to do next.
"""
