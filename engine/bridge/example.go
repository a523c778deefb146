package bridge

import _ "embed"

// Example is a commented bridges file to start from (the window's editor
// offers it when there is none yet); testdata/bridge/example.yaml is the
// same file, for serve --bridge and the README.
//
//go:embed example.yaml
var Example []byte
