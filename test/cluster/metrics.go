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

package cluster

import (
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is a scrape of a metrics endpoint, by family name.
type Metrics map[string]*dto.MetricFamily

// ParseMetrics reads a scrape in Prometheus' text format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}

// Value is the value of the first series of family whose labels include
// labels (name, value, name, value...), or 0 when there is none; a
// histogram's value is its count of observations.
func (m Metrics) Value(family string, labels ...string) float64 {
	for _, s := range m[family].GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case s.GetGauge() != nil:
			return s.GetGauge().GetValue()
		case s.GetHistogram() != nil:
			return float64(s.GetHistogram().GetSampleCount())
		default:
			return s.GetCounter().GetValue()
		}
	}
	return 0
}
