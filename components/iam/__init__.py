"""IAM building blocks: typed policy documents and role helpers."""
