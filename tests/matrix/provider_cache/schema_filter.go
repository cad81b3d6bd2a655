package main

// A provider's schema answer cut down to the resource, data source and ephemeral resource types
// one Terraform configuration declares. Terraform decodes the whole answer in every command
// (the AWS provider's: thousands of types, about 1.3 CPU-s of a plan), and a configuration only
// ever consults the schemas of the types it declares: a type it uses that is left out is an
// error ("provider does not support resource type"), never a pass. The provider's own schema,
// its provider_meta, functions, capabilities and diagnostics are kept whole.
//
// The wanted types come from the file named by typesVariable, one name a line, written by the
// test process before each command (commands that share one provider run one at a time); no
// variable, or no file, gives the whole answer.

import (
	"bufio"
	"errors"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

const typesVariable = "PROVIDER_CACHE_SCHEMA_TYPES"

// Fields of GetProviderSchema.Response (tfplugin5 and tfplugin6 number them alike) that are
// maps from a type's name to its schema.
var typeMaps = map[protowire.Number]bool{
	2: true, // resource_schemas
	3: true, // data_source_schemas
	8: true, // ephemeral_resource_schemas
}

var schemaMethods = map[string]bool{
	"/tfplugin5.Provider/GetSchema":         true,
	"/tfplugin6.Provider/GetProviderSchema": true,
}

// wantedTypes reads the file the variable names; ok is false when there is none.
func wantedTypes() (map[string]bool, bool) {
	path := os.Getenv(typesVariable)
	if path == "" {
		return nil, false
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer file.Close()
	wanted := map[string]bool{}
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if name := strings.TrimSpace(lines.Text()); name != "" {
			wanted[name] = true
		}
	}
	return wanted, lines.Err() == nil
}

// filterSchema keeps, of the type maps, the entries whose key is wanted; every other field is
// copied byte for byte.
func filterSchema(answer []byte, wanted map[string]bool) ([]byte, error) {
	kept := make([]byte, 0, len(answer)/8)
	for rest := answer; len(rest) > 0; {
		number, kind, length := protowire.ConsumeField(rest)
		if length < 0 {
			return nil, protowire.ParseError(length)
		}
		field := rest[:length]
		rest = rest[length:]
		if typeMaps[number] && kind == protowire.BytesType {
			name, err := entryKey(field)
			if err != nil {
				return nil, err
			}
			if !wanted[name] {
				continue
			}
		}
		kept = append(kept, field...)
	}
	return kept, nil
}

// entryKey is the key (field 1) of one map entry, given as the whole field (tag and length).
func entryKey(field []byte) (string, error) {
	_, _, tagLength := protowire.ConsumeTag(field)
	entry, n := protowire.ConsumeBytes(field[tagLength:])
	if tagLength < 0 || n < 0 {
		return "", errors.New("malformed map entry")
	}
	for len(entry) > 0 {
		number, kind, length := protowire.ConsumeField(entry)
		if length < 0 {
			return "", protowire.ParseError(length)
		}
		if number == 1 && kind == protowire.BytesType {
			_, _, keyTag := protowire.ConsumeTag(entry)
			key, _ := protowire.ConsumeBytes(entry[keyTag:])
			return string(key), nil
		}
		entry = entry[length:]
	}
	return "", nil
}
