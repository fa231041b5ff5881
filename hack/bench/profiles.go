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
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
)

// startProfiles, with -pprof, profiles the first seconds of a phase: the API
// server's CPU and, when the operator runs, its CPU, and its goroutines ten
// seconds in.
func (r *run) startProfiles(ctx context.Context, phase string) *sync.WaitGroup {
	var wg sync.WaitGroup
	if r.env.cfg.pprofDir == "" {
		return &wg
	}
	seconds := r.env.cfg.pprofSeconds
	wg.Go(func() {
		r.saveAPIServerProfile(ctx, "/debug/pprof/profile?seconds="+strconv.Itoa(seconds), phase+"-apiserver-cpu.pprof")
	})
	wg.Go(func() {
		if pause(ctx, 10*time.Second) == nil {
			r.saveAPIServerProfile(ctx, "/debug/pprof/goroutine?debug=1", phase+"-apiserver-goroutine.txt")
		}
	})
	if r.op.pid() == 0 {
		return &wg
	}
	wg.Go(func() {
		r.saveProfile(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds), phase+"-operator-cpu.pprof")
	})
	wg.Go(func() {
		if pause(ctx, 10*time.Second) == nil {
			r.saveProfile(ctx, "/debug/pprof/goroutine?debug=1", phase+"-operator-goroutine.txt")
		}
	})
	return &wg
}

// saveAPIServerProfile fetches a profile of the API server (its /debug/pprof,
// open to the cluster's admin) into the -pprof directory.
func (r *run) saveAPIServerProfile(ctx context.Context, pathAndQuery, file string) {
	clientset, err := kubernetes.NewForConfig(r.cluster.rest)
	if err != nil {
		logf("Profile %s: %v", file, err)
		return
	}
	path, query, _ := strings.Cut(pathAndQuery, "?")
	req := clientset.Discovery().RESTClient().Get().AbsPath(path)
	if key, value, ok := strings.Cut(query, "="); ok {
		req = req.Param(key, value)
	}
	raw, err := req.DoRaw(ctx)
	if err != nil {
		logf("Profile %s: %v", file, err)
		return
	}
	out := filepath.Join(r.env.cfg.pprofDir, r.sc.slug()+"-"+file)
	if err := os.WriteFile(out, raw, 0o644); err != nil {
		logf("Profile %s: %v", file, err)
		return
	}
	logf("Wrote %s", out)
}

// saveProfile fetches a profile into the -pprof directory, as <scenario>-<file>.
func (r *run) saveProfile(ctx context.Context, path, file string) {
	if r.op.pprofAddr == "" {
		return
	}
	out := filepath.Join(r.env.cfg.pprofDir, r.sc.slug()+"-"+file)
	if err := r.op.saveProfile(ctx, path, out); err != nil {
		logf("Profile %s: %v", file, err)
		return
	}
	logf("Wrote %s", out)
}
