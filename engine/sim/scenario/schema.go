package scenario

import _ "embed"

//go:generate go run gen_schema.go

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema of scenario files, generated from these
// types (go generate), for editors to validate and complete with. Parse
// checks more than the schema can say (references, ranges between keys).
func Schema() []byte { return append([]byte(nil), schema...) }
