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

package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// explain turns a refusal of the API server into what to do about it: a
// forbidden call says which ClusterRole grants it.
func explain(err error, verb, resource, role string) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("you may not %s %s: that needs the %s ClusterRole (or more), bound to you by a cluster admin: %w",
			verb, resource, role, err)
	}
	return fmt.Errorf("%s %s: %w", verb, resource, err)
}

// notFound says that no object of the kind has the name, and lists the
// names that are close to it, if the caller may list them.
func notFound(ctx context.Context, c client.Client, kind, name string, list client.ObjectList) error {
	if err := c.List(ctx, list); err != nil {
		return fmt.Errorf("no %s %q", kind, name)
	}
	var names []string
	_ = meta.EachListItem(list, func(obj runtime.Object) error {
		names = append(names, obj.(client.Object).GetName())
		return nil
	})
	close := closeNames(name, names)
	if len(close) == 0 {
		return fmt.Errorf("no %s %q", kind, name)
	}
	return fmt.Errorf("no %s %q; did you mean %s?", kind, name, strings.Join(close, ", "))
}

// closeNames are at most five of the names that contain the name, or are
// within a few edits of it, closest first.
func closeNames(name string, names []string) []string {
	type scored struct {
		name string
		d    int
	}
	limit := max(2, len(name)/4)
	var close []scored
	for _, n := range names {
		d := editDistance(name, n)
		if strings.Contains(n, name) || strings.Contains(name, n) {
			d = min(d, 1)
		}
		if d <= limit {
			close = append(close, scored{n, d})
		}
	}
	slices.SortFunc(close, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	out := []string{}
	for i := 0; i < len(close) && i < 5; i++ {
		out = append(out, close[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
