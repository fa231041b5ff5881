/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// Metrics of the API server that the bench reads.
const (
	metricAPISum   = "apiserver_request_duration_seconds_sum"
	metricAPICount = "apiserver_request_duration_seconds_count"
)

// apiWriteVerbs are the verbs of apiserver_request_duration_seconds that write.
var apiWriteVerbs = map[string]bool{
	http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true, "APPLY": true, http.MethodDelete: true,
}

// latency is how many requests the API server served and how long they took in all.
type latency struct{ count, seconds float64 }

// apiLatencies are the API server's writes, of every client, by "resource[/subresource] VERB".
type apiLatencies map[string]latency

// apiserverLatencies reads the API server's request durations from its /metrics.
func (c *cluster) apiserverLatencies(ctx context.Context) (apiLatencies, error) {
	clientset, err := kubernetes.NewForConfig(c.rest)
	if err != nil {
		return nil, fmt.Errorf("making a client: %w", err)
	}
	raw, err := clientset.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	m, err := parseMetrics(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	out := apiLatencies{}
	for _, smp := range m {
		if (smp.name != metricAPISum && smp.name != metricAPICount) || !apiWriteVerbs[smp.labels["verb"]] {
			continue
		}
		key := smp.labels["resource"]
		if sub := smp.labels["subresource"]; sub != "" {
			key += "/" + sub
		}
		key += " " + smp.labels["verb"]
		l := out[key]
		if smp.name == metricAPISum {
			l.seconds += smp.value
		} else {
			l.count += smp.value
		}
		out[key] = l
	}
	return out, nil
}

// since is what the API server served between before and l.
func (l apiLatencies) since(before apiLatencies) apiLatencies {
	out := apiLatencies{}
	for key, now := range l {
		d := latency{count: now.count - before[key].count, seconds: now.seconds - before[key].seconds}
		if d.count > 0 {
			out[key] = d
		}
	}
	return out
}

// top lists the n writes that took the API server longest in all, with their mean latency.
func (l apiLatencies) top(n int) string {
	keys := slices.SortedFunc(maps.Keys(l), func(a, b string) int { return cmp.Compare(l[b].seconds, l[a].seconds) })
	parts := make([]string, 0, n)
	for _, key := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f x %.0f ms", key, l[key].count, 1000*l[key].seconds/l[key].count))
	}
	if len(parts) == 0 {
		return notAvailable
	}
	return strings.Join(parts, ", ")
}
