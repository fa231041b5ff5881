package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	cacheLookups *prometheus.CounterVec
}

// NewMetrics creates the server's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	labels := []string{"route", "method", "code"}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sampleapp_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sampleapp_http_request_duration_seconds",
			Help:    "HTTP request latency, by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, labels),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sampleapp_todo_cache_lookups_total",
			Help: "Lookups of the first page of todo lists in Redis, by result (hit, miss, error).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.cacheLookups)
	return m
}

// methodLabel keeps the method label's cardinality bounded whatever clients
// send.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	default:
		return "OTHER"
	}
}
