"""Operations on a real AWS account with boto3: ``mlopsctl bootstrap`` and ``mlopsctl verify``.

``awsclients`` makes the retrying clients and turns AWS errors into one line; ``bootstrap`` creates
or confirms the account-level pieces (state bucket, secrets key, CI identities); ``verify`` checks
a deployed stack's live resources against its config.
"""
