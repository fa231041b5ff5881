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

// Package applytest is for tests of apply configurations. A server-side
// apply reads the API server's answer into the apply configuration it sent:
// into its maps, slices and pointed-to values. An apply configuration that
// shares one of them with a cached object or a package variable changes it
// behind the cache's back and, with sandboxes reconciled at once, writes a map
// from two goroutines, which stops the operator.
package applytest

import "encoding/json"

// ReadAnswer reads into obj what the API server might answer to obj, changed
// everywhere a decoder writes into what it decodes into: a key more in every
// map of strings (labels, selectors, data, resource lists), every number one
// more, and every string of a list of strings longer.
func ReadAnswer(obj any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	answer, err := json.Marshal(changed(doc))
	if err != nil {
		return err
	}
	return json.Unmarshal(answer, obj)
}

// added is a label value, a quantity and base64 all at once, so that it
// decodes into any map of strings.
const added = "1000"

func changed(doc any) any {
	switch v := doc.(type) {
	case map[string]any:
		allStrings := len(v) > 0
		for k, e := range v {
			if _, ok := e.(string); !ok {
				allStrings = false
			}
			v[k] = changed(e)
		}
		if allStrings {
			v["applytest.example/added"] = added
		}
		return v
	case []any:
		for i, e := range v {
			if s, ok := e.(string); ok {
				v[i] = s + "-answer"
				continue
			}
			v[i] = changed(e)
		}
		return v
	case float64:
		return v + 1
	default:
		return v
	}
}
