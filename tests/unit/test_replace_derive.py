"""The replace-facts tooling's Go schema reader and its mapping to Pulumi inputs, on hand-written Go snippets.

The snippets are written for these tests (shaped like upstream's two schema styles, not copied
from it); each pins one reading rule.
"""

from __future__ import annotations

import pytest

from mlopsctl.review.replacefacts.derivation import derive, pulumi_path
from mlopsctl.review.replacefacts.golex import GoSyntaxError, elements, literal_body, matching
from mlopsctl.review.replacefacts.goschema import SchemaNotFound, attribute_name, read_schema
from mlopsctl.review.replacefacts.table import UpstreamSource

# ---------------------------------------------------------------------------------------------
# Lexing: strings, raw strings, runes and comments never count as brackets or separators


def test_brackets_inside_strings_comments_and_runes_are_skipped():
    text = 'x{ a: "}{", b: `}`, c: \'}\', /* } */ d: 1, // }\n e: f(1, 2) }'
    end = matching(text, 1)
    assert end == len(text)
    assert [e.key for e in elements(text, 2, end - 1)] == ["a", "b", "c", "d", "e"]


def test_a_value_that_calls_a_function_has_no_literal_body():
    text = "helper(x{}) &schema.Resource{Schema: y}"
    assert literal_body(text, 0, 11) is None
    assert literal_body(text, 12, len(text)) == (29, len(text) - 1)


def test_unbalanced_go_is_refused():
    with pytest.raises(GoSyntaxError):
        matching("func f() { if x {", 9)
    with pytest.raises(GoSyntaxError):
        matching('m{ "unterminated }', 1)


@pytest.mark.parametrize(("constant", "name"), [
    ("VPCID", "vpc_id"), ("CIDRBlock", "cidr_block"), ("SecurityGroupIDs", "security_group_ids"),
    ("KMSKeyID", "kms_key_id"), ("IPv6CIDRBlock", "ipv6_cidr_block"), ("IPv4IPAMPoolID", "ipv4_ipam_pool_id"),
    ("Name", "name"), ("ExpectedBucketOwner", "expected_bucket_owner"), ("CloudWatchLogs", "cloudwatch_logs"),
    ("ARN", "arn"), ("RoleARN", "role_arn"), ("AvailabilityZoneID", "availability_zone_id"), ("IPAddressType", "ip_address_type"),
    ("Identifier", "identifier"), ("S3Bucket", "s3_bucket"),
])
def test_names_attr_constants_name_their_attribute(constant, name):
    assert attribute_name(constant) == name


# ---------------------------------------------------------------------------------------------
# terraform-plugin-sdk v2

SDK_GADGET = '''
package gadget

const attrSerial = "serial_number"

// @SDKResource("aws_gadget", name="Gadget")
func resourceGadget() *schema.Resource {
	return &schema.Resource{
		CreateWithoutTimeout: resourceGadgetCreate,
		UpdateWithoutTimeout: resourceGadgetUpdate,
		CustomizeDiff: customdiff.All(
			customdiff.ForceNewIfChange("size", func(_ context.Context, old, new, _ any) bool { return new.(int) < old.(int) }),
			func(_ context.Context, d *schema.ResourceDiff, _ any) error {
				if d.HasChange(names.AttrOwner) { return d.ForceNew(names.AttrOwner) }
				return d.ForceNew(someKey)
			},
		),
		Schema: map[string]*schema.Schema{
			names.AttrARN: {Type: schema.TypeString, Computed: true},
			names.AttrVPCID: {Type: schema.TypeString, Required: true, ForceNew: true},
			attrSerial: {
				Type:     schema.TypeString,
				Optional: true,
				ForceNew: true, // "}" in a comment
				ValidateFunc: validation.StringMatch(regexache.MustCompile(`^[a-z{}]+$`), "no } here"),
			},
			names.AttrOwner: {Type: schema.TypeString, Optional: true},
			"size": {Type: schema.TypeInt, Optional: true},
			"placement": {
				Type: schema.TypeList, MaxItems: 1, Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"zone": {Type: schema.TypeString, Required: true, ForceNew: true},
						"weight": {Type: schema.TypeInt, Optional: true},
					},
				},
			},
			"rule": {Type: schema.TypeSet, Optional: true, Elem: gadgetRuleResource()},
			"labels": {Type: schema.TypeList, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"document": gadgetDocumentSchema(),
			"policy": verify.SomePolicySchema(),
			names.AttrTags:    tftags.TagsSchema(),
			names.AttrTagsAll: tftags.TagsSchemaComputed(),
		},
	}
}

func gadgetRuleResource() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"priority": {Type: schema.TypeInt, Required: true, ForceNew: true},
			"action":   {Type: schema.TypeString, Required: true},
		},
	}
}

func gadgetDocumentSchema() *schema.Schema {
	return &schema.Schema{Type: schema.TypeString, Optional: true, ForceNew: true}
}

func resourceGadgetUpdate(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	return resourceGadgetRead(ctx, d, meta)
}
'''


def test_sdkv2_force_new_at_any_depth_through_inline_blocks_and_helper_functions():
    schema = read_schema(SDK_GADGET, "aws_gadget")
    assert schema.kind == "sdkv2"
    assert schema.replacing == ["document", "placement.zone", "rule.priority", "serial_number", "vpc_id"]
    assert {"placement.weight", "rule.action", "labels"} <= set(schema.attributes)
    assert not schema.attributes["arn"].is_input and not schema.attributes["tags_all"].is_input
    assert schema.attributes["tags"].is_input


def test_sdkv2_parts_built_in_another_package_are_unread_not_guessed():
    schema = read_schema(SDK_GADGET, "aws_gadget")
    assert schema.unread == ["policy = verify.SomePolicySchema()"]
    assert schema.attributes["policy"].is_input is None


def test_customize_diff_replacement_is_a_hint_with_its_attribute():
    hints = {(h.origin, h.path, h.expression) for h in read_schema(SDK_GADGET, "aws_gadget").hints}
    assert hints == {
        ("customdiff.ForceNewIfChange", "size", '"size"'),
        ("ResourceDiff.ForceNew", "owner", "names.AttrOwner"),
        ("ResourceDiff.ForceNew", None, "someKey"),  # a variable: a person reads it
    }


def test_an_unknown_key_constant_is_reported():
    text = '// @SDKResource("aws_x")\nvar s = map[string]*schema.Schema{\n attrElsewhere: {Type: schema.TypeString, Required: true, ForceNew: true},\n}\n'
    schema = read_schema(text, "aws_x")
    assert schema.unresolved_keys == ["attrElsewhere"]
    assert schema.replacing == ["<attrElsewhere>"]


def _immutable(update_body: str, description_force_new: str) -> str:
    return f'''
// @SDKResource("aws_immutable")
func resourceImmutable() *schema.Resource {{
	return &schema.Resource{{
		UpdateWithoutTimeout: resourceImmutableUpdate,
		Schema: map[string]*schema.Schema{{
			names.AttrName:        {{Type: schema.TypeString, Required: true, ForceNew: true}},
			names.AttrDescription: {{Type: schema.TypeString, Optional: true{description_force_new}}},
			names.AttrTags:        tftags.TagsSchema(),
		}},
	}}
}}

func resourceImmutableUpdate(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {{
	{update_body}
	return nil
}}
'''


def test_an_update_that_changes_only_tags_means_every_input_replaces():
    tags_only = read_schema(_immutable("// Tags only.", ""), "aws_immutable")
    assert tags_only.update_changes_only_tags and tags_only.every_input_replaces
    all_force_new = read_schema(_immutable("conn.Update(d)", ", ForceNew: true"), "aws_immutable")
    assert not all_force_new.update_changes_only_tags and all_force_new.every_input_replaces
    in_place = read_schema(_immutable("conn.Update(d)", ""), "aws_immutable")
    assert not in_place.every_input_replaces


SDK_SPROCKET_VARIABLE = '''
var (
	sprocketSchema = map[string]*schema.Schema{
		names.AttrName:  {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
		"teeth":         {Type: schema.TypeInt, Optional: true},
		names.AttrTags:  tftags.TagsSchema(),
	}
	sprocketAttributes = attrmap.New(map[string]string{"teeth": "Teeth"}, sprocketSchema)
)

// @SDKResource("aws_sprocket", name="Sprocket")
func resourceSprocket() *schema.Resource {
	return &schema.Resource{
		UpdateWithoutTimeout: resourceSprocketUpdate,
		Timeouts: &schema.ResourceTimeout{Create: schema.DefaultTimeout(time.Minute)},
		Schema: sprocketSchema,
	}
}

func resourceSprocketUpdate(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	_ = map[string]*schema.Schema{"decoy": {Type: schema.TypeString, ForceNew: true}}
	return nil
}
'''

SDK_SPROCKET_SCHEMA_FUNC = '''
// @SDKResource("aws_sprocket", name="Sprocket")
func resourceSprocket() *schema.Resource {
	return &schema.Resource{
		SchemaFunc: func() map[string]*schema.Schema {
			gearBlock := func(parent string) *schema.Resource {
				tooth := func() *schema.Resource {
					return &schema.Resource{
						Schema: map[string]*schema.Schema{
							"pitch": {Type: schema.TypeInt, Optional: true, ForceNew: true},
						},
					}
				}
				conflicts := []string{fmt.Sprintf("%s.0.tooth", parent)}

				return &schema.Resource{
					Schema: map[string]*schema.Schema{
						"tooth": {Type: schema.TypeList, Optional: true, Elem: tooth(), ConflictsWith: conflicts},
						"ratio": {Type: schema.TypeString, Optional: true, ValidateFunc: validation.StringMatch(regexache.MustCompile(`^[0-9]{1,3}$`), "")},
					},
				}
			}

			return map[string]*schema.Schema{
				names.AttrName: {Type: schema.TypeString, Required: true, ForceNew: true},
				"gear":         {Type: schema.TypeList, Optional: true, MaxItems: 1, Elem: gearBlock("gear")},
			}
		},
	}
}
'''


def test_sdkv2_resource_schema_held_in_a_package_variable_declared_before_the_resource():
    schema = read_schema(SDK_SPROCKET_VARIABLE, "aws_sprocket")
    assert set(schema.attributes) == {"name", "teeth", "tags"}
    assert schema.replacing == ["name"]


def test_sdkv2_schema_func_returns_its_map_and_closures_return_their_last_literal():
    schema = read_schema(SDK_SPROCKET_SCHEMA_FUNC, "aws_sprocket")
    # The first schema map in the text is the innermost closure's: reading it as the resource's
    # schema would give "pitch" at the top level.
    assert set(schema.attributes) == {"name", "gear", "gear.tooth", "gear.tooth.pitch", "gear.ratio"}
    assert schema.replacing == ["gear.tooth.pitch", "name"]
    assert schema.unread == []


def test_a_saved_schema_section_is_read_from_its_first_map_not_from_a_nested_block():
    section = '''
		Schema: map[string]*schema.Schema{
			"hub": {Type: schema.TypeString, Required: true, ForceNew: true},
			"spoke": {Type: schema.TypeList, Optional: true, Elem: &schema.Resource{
				Schema: map[string]*schema.Schema{"length": {Type: schema.TypeInt, Optional: true, ForceNew: true}},
			}},
		},
'''
    schema = read_schema(section, "aws_wheel")
    assert schema.replacing == ["hub", "spoke.length"]


def test_sdkv2_resource_schema_built_in_another_package_is_refused_not_replaced_by_another_map():
    text = SDK_SPROCKET_VARIABLE.replace("Schema: sprocketSchema,", "Schema: sprockets.SharedSchema(),")
    with pytest.raises(SchemaNotFound, match="sprockets.SharedSchema"):
        read_schema(text, "aws_sprocket")


# ---------------------------------------------------------------------------------------------
# terraform-plugin-framework

FRAMEWORK_WIDGET = '''
// @FrameworkResource("aws_widget", name="Widget")
func newWidgetResource(context.Context) (resource.ResourceWithConfigure, error) { return &widgetResource{}, nil }

func (r *widgetResource) Schema(ctx context.Context, request resource.SchemaRequest, response *resource.SchemaResponse) {
	response.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			names.AttrARN: framework.ARNAttributeComputedOnly(),
			names.AttrID:  framework.IDAttribute(),
			names.AttrClusterName: schema.StringAttribute{
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"owner_id": schema.StringAttribute{
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			names.AttrRoleARN: schema.StringAttribute{Required: true},
			"created_at":      schema.StringAttribute{Computed: true},
			"settings": schema.SingleNestedAttribute{
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"zone": schema.StringAttribute{Optional: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
					"mode": schema.StringAttribute{Optional: true},
				},
			},
			names.AttrTags:    tftags.TagsAttribute(),
			names.AttrTagsAll: tftags.TagsAttributeComputedOnly(),
		},
		Blocks: map[string]schema.Block{
			"scope": schema.ListNestedBlock{
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						names.AttrType: schema.StringAttribute{
							Required:      true,
							PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
						},
						"namespaces": schema.SetAttribute{
							ElementType:   types.StringType,
							Optional:      true,
							PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplaceIf(widgetNamespacesShrink, "shrinks", "shrinks")},
						},
					},
				},
			},
			names.AttrTimeouts: timeouts.Block(ctx, timeouts.Opts{Create: true}),
		},
	}
}

func (r *widgetResource) ModifyPlan(ctx context.Context, request resource.ModifyPlanRequest, response *resource.ModifyPlanResponse) {
	response.RequiresReplace = append(response.RequiresReplace, path.Root("settings").AtName("mode"), path.Root(names.AttrRoleARN))
}
'''


def test_framework_requires_replace_and_requires_replace_if_configured_force_replacement():
    schema = read_schema(FRAMEWORK_WIDGET, "aws_widget")
    assert schema.kind == "framework"
    assert schema.replacing == ["cluster_name", "owner_id", "scope.type", "settings.zone"]
    assert schema.attributes["scope"].is_input and schema.attributes["timeouts"].is_input
    assert not schema.attributes["created_at"].is_input and not schema.attributes["arn"].is_input
    assert schema.unread == [] and schema.unresolved_keys == []


def test_framework_requires_replace_if_and_modify_plan_are_hints():
    hints = {(h.origin, h.path) for h in read_schema(FRAMEWORK_WIDGET, "aws_widget").hints}
    assert hints == {
        ("plan modifier RequiresReplaceIf", "scope.namespaces"),
        ("ModifyPlan RequiresReplace", "settings.mode"),
        ("ModifyPlan RequiresReplace", "role_arn"),
    }


def test_text_without_the_resources_schema_is_refused():
    with pytest.raises(SchemaNotFound):
        read_schema("package x\n\nfunc unrelated() {}\n", "aws_widget")


# ---------------------------------------------------------------------------------------------
# Terraform paths -> Pulumi inputs

INPUTS = frozenset({"filterGroups", "filterGroups.filters", "filterGroups.filters.type", "name", "policies", "region", "tags"})


def test_terraform_paths_map_to_the_sdks_input_names():
    assert pulumi_path("filter_group.filter.type", {}, INPUTS) == "filterGroups.filters.type"
    assert pulumi_path("policy", {}, INPUTS) == "policies"
    assert pulumi_path("alarm_name", {"alarm_name": "name"}, INPUTS) == "name"
    assert pulumi_path("alarm_name", {}, INPUTS) is None


def _source(**renames: str) -> UpstreamSource:
    return UpstreamSource("aws:demo/gadget:Gadget", "hashicorp/terraform-provider-aws", ("gadget.go",), "aws_gadget", renames)


def test_derived_paths_add_region_for_regional_types_and_list_sdk_inputs_the_files_lack():
    inputs = frozenset({"vpcId", "serialNumber", "owner", "size", "placement", "placement.zone", "placement.weight", "rules",
                        "rules.priority", "rules.action", "labels", "document", "policy", "tags", "region", "newerInput"})
    derived = derive(_source(), [SDK_GADGET], inputs)
    assert derived.replace_paths == ["document", "placement.zone", "region", "rules.priority", "serialNumber", "vpcId"]
    assert derived.unverified == ["newerInput"]
    assert not derived.every_input
    assert {path for _, path in derived.hints} == {"size", "owner", None}
    assert derived.problems == ["not read (built outside the files read): policy = verify.SomePolicySchema()"]
    global_type = derive(_source(), [SDK_GADGET], inputs - {"region"})
    assert "region" not in global_type.replace_paths


def test_a_replacing_attribute_the_sdk_lacks_is_a_problem():
    derived = derive(_source(), [SDK_GADGET], frozenset({"vpcId", "policy"}))
    assert "forces replacement upstream but is no input of the installed SDK: serial_number" in derived.problems


def test_every_input_replacing_gives_star_except_the_tag_inputs():
    source = UpstreamSource("aws:demo/immutable:Immutable", "hashicorp/terraform-provider-aws", ("i.go",), "aws_immutable")
    derived = derive(source, [_immutable("// Tags only.", "")], frozenset({"name", "description", "tags", "region"}))
    assert derived.every_input and derived.except_paths == ["tags"]
    assert derived.replace_paths == ["name", "region"]  # the explicit part, for a table that lists paths
