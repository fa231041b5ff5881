package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBodyBytes bounds request bodies; the largest valid body (a 200-character
// title, or an email and a 72-byte password) is far below it.
const maxBodyBytes = 16 << 10

// apiError is an error whose status and message are meant for the client.
// Any other error a handler returns is logged and answered with a bare 500.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.msg) }

// errorf returns an apiError with a formatted message.
func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON encodes v before writing the header, so that an encoding failure
// can still be answered with a 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal server error"}`)
	}
	writeRaw(w, status, append(body, '\n'))
}

// writeRaw writes an already encoded JSON body. It never modifies body,
// which may be shared (the embedded OpenAPI document).
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes the {"error": msg} body every failure shares.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// decodeJSON reads exactly one JSON object into dst. It answers the client's
// mistakes with the status that names them: 415 for another media type, 413
// for an oversized body, 400 for anything malformed, unknown fields included.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return decodeError(err)
		}
		return errorf(http.StatusBadRequest, "request body must contain a single JSON object")
	}
	return nil
}

func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}

// decodeError turns a json.Decoder error into a client error message.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		fieldType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "request body must be at most %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "request body must not be empty")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request body is not valid JSON")
	case errors.As(err, &fieldType):
		if fieldType.Field == "" {
			return errorf(http.StatusBadRequest, "request body must be a JSON object")
		}
		return errorf(http.StatusBadRequest, "field %q must be of type %s", fieldType.Field, fieldType.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return errorf(http.StatusBadRequest, "request body is not valid JSON")
	}
}
