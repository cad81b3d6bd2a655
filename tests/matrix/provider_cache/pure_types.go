package main

// Answers to the per-resource methods (the validation of a resource's configuration and its
// plan) for the resource types named in pureTypesVariable, kept and given again for the same
// request like the pure methods' answers. Those types are the ones whose validation and plan
// the provider computes from the request and its configured state alone, without asking an
// API (the caller vouches for that). The configured state is that of the last configuration
// request the provider received (Terraform configures it anew in every command that plans),
// so the key is the bytes of that request and of the call's own: a command under another
// provider configuration, or with another configuration of the resource, is answered by the
// provider. An answer of a type not listed, or one that failed, is never kept.
//
// The AWS provider's plan of aws_wafv2_web_acl deep-copies the resource's schema (nested rule
// statements, thousands of attributes) by reflection, about 1.8 CPU-s of the 2.9 the provider
// spends on a whole plan of the matrix's fullest tree, while its configuration is the same in
// almost every combination.

import (
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

const pureTypesVariable = "PROVIDER_CACHE_PURE_TYPES"

// The methods that configure the provider (tfplugin5, tfplugin6).
var configureMethods = map[string]bool{
	"/tfplugin5.Provider/Configure":         true,
	"/tfplugin6.Provider/ConfigureProvider": true,
}

// The per-resource methods kept for a pure type; each request's field 1 is the type's name.
var perTypeMethods = map[string]bool{
	"/tfplugin5.Provider/ValidateResourceTypeConfig": true,
	"/tfplugin5.Provider/PlanResourceChange":         true,
	"/tfplugin6.Provider/ValidateResourceConfig":     true,
	"/tfplugin6.Provider/PlanResourceChange":         true,
}

// pureTypes reads the comma-separated type names of pureTypesVariable (none when unset).
func pureTypes() map[string]bool {
	types := map[string]bool{}
	for _, name := range strings.Split(os.Getenv(pureTypesVariable), ",") {
		if name = strings.TrimSpace(name); name != "" {
			types[name] = true
		}
	}
	return types
}

// typeName is field 1 of a per-resource request (type_name); ok is false when it has none.
func typeName(request []byte) (string, bool) {
	for rest := request; len(rest) > 0; {
		number, kind, length := protowire.ConsumeField(rest)
		if length < 0 {
			return "", false
		}
		if number == 1 && kind == protowire.BytesType {
			_, _, tagLength := protowire.ConsumeTag(rest)
			name, n := protowire.ConsumeBytes(rest[tagLength:])
			return string(name), n >= 0
		}
		rest = rest[length:]
	}
	return "", false
}

// pureKey is the key of a per-resource call under the provider's configuration: the method,
// the configuration request's bytes and the call's (lengths first, so no two split alike).
func pureKey(method string, configured, request []byte) string {
	var key []byte
	key = append(key, method...)
	key = append(key, 0)
	key = protowire.AppendVarint(key, uint64(len(configured)))
	key = append(key, configured...)
	key = append(key, request...)
	return string(key)
}
