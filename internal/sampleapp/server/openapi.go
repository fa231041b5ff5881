package server

import (
	_ "embed"
	"net/http"
)

// openAPI documents the HTTP contract; openapi_test.go keeps it in step
// with the routes.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	writeRaw(w, http.StatusOK, openAPI)
}
