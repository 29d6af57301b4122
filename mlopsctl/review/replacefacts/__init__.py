"""Regenerate and check the replace table (``mlopsctl/review/data/replace_on_change.json``) from upstream.

The table's AWS facts come from terraform-provider-aws's resource schemas, which pulumi-aws
bridges: ``ForceNew`` in terraform-plugin-sdk v2 schemas, ``RequiresReplace`` plan modifiers in
terraform-plugin-framework ones. Only the derived facts are committed, never upstream source;
this package re-reads the upstream files listed per type and reports where the table differs:

- ``golex`` / ``goschema``: the Go schema reader (which attributes force replacement, and the
  value-dependent replacement a person must read);
- ``sdk_inputs``: the input paths of a type, from the installed Pulumi SDK's source;
- ``table``: the table's shape and the upstream files per type; ``derivation``: one type's facts
  in the table's terms; ``check``: the comparison;
- ``python -m mlopsctl.review.replacefacts check|list-files``: the command (docs/replace-facts.md).
"""
