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
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterName is the name of the bench's local cluster.
const clusterName = "learning-sandbox-bench"

// kwokctlConfig widens the Service IP range from kube-apiserver's default
// 10.0.0.0/24, whose 254 addresses hold the Services of 84 sandboxes, to
// 10.96.0.0/12. kwokctl reads it from $KWOK_WORKDIR/kwok.yaml, which is
// DIR/kwok/kwok.yaml for hack/local-cluster.sh.
const kwokctlConfig = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: service-cluster-ip-range
    value: 10.96.0.0/12
`

// cluster is a local cluster of the toolchain's binaries with KWOK's fake nodes
// (hack/local-cluster.sh), with the CRDs, the learner ClusterRole and the
// stage catalog installed.
type cluster struct {
	env        *env
	dir        string
	kubeconfig string
	rest       *rest.Config
}

// startCluster starts a fresh cluster in dir with the given fake nodes and installs the operator's API.
func startCluster(ctx context.Context, e *env, dir string, nodes int) (*cluster, error) {
	c := &cluster{env: e, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig")}
	logf("Starting the local cluster %s with %d fake nodes in %s", clusterName, nodes, dir)
	if err := os.MkdirAll(filepath.Join(dir, "kwok"), 0o755); err != nil {
		return nil, fmt.Errorf("making the cluster's directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kwok", "kwok.yaml"), []byte(kwokctlConfig), 0o644); err != nil {
		return nil, fmt.Errorf("writing the kwokctl configuration: %w", err)
	}
	if err := sh(ctx, e.root, "bash", "hack/local-cluster.sh", "up", clusterName, dir, strconv.Itoa(nodes)); err != nil {
		return nil, err
	}
	if err := c.install(ctx); err != nil {
		_ = c.down()
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		_ = c.down()
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	c.rest = cfg
	return c, nil
}

// install applies the CRDs, the learner ClusterRole and the stage catalog,
// and waits until the nodes are Ready.
func (c *cluster) install(ctx context.Context) error {
	apply := func(args ...string) []string {
		return append([]string{"apply", "--server-side", "--force-conflicts"}, args...)
	}
	for _, args := range [][]string{
		apply("-f", "config/crd/bases"),
		apply("-k", "config/learner"),
		{"wait", "--for", "condition=Established", "crd", "--all", "--timeout", "60s"},
		apply("-k", "config/stages"),
		{"wait", "--for", "condition=Ready", "nodes", "--all", "--timeout", "180s"},
	} {
		if err := c.kubectl(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// kubectl runs the toolchain's kubectl against the cluster, in the repository.
func (c *cluster) kubectl(ctx context.Context, args ...string) error {
	cmd := append([]string{"--kubeconfig", c.kubeconfig}, args...)
	cmdCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := sh(cmdCtx, c.env.root, c.env.kubectl, cmd...); err != nil {
		return fmt.Errorf("kubectl: %w", err)
	}
	return nil
}

// down deletes the cluster and its directory.
func (c *cluster) down() error {
	logf("Deleting the local cluster %s", clusterName)
	return sh(context.Background(), c.env.root, "bash", "hack/local-cluster.sh", "down", clusterName, c.dir)
}

// componentPIDs are the processes of the cluster by component name, from KWOK's pid files.
func (c *cluster) componentPIDs() map[string]int {
	dir := filepath.Join(c.dir, "kwok", "clusters", clusterName, "pids")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	pids := map[string]int{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			pids[strings.TrimSuffix(e.Name(), ".pid")] = pid
		}
	}
	return pids
}

// cpuTimes is CPU time (user and system) by process name.
type cpuTimes map[string]time.Duration

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times, on every Linux we run on.
const clockTicks = 100

// processCPU is the CPU time a process has used, from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it do not.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("process %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("process %d: unreadable /proc stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// machineCPU is the key of cpuTimes that holds the CPU time of the whole machine.
const machineCPU = "(machine)"

// busyCPU is the CPU time every process of the machine has used, from /proc/stat.
func busyCPU() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("reading /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat: %q", line)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// snapshotCPU reads the CPU time of the cluster's components, the operator,
// the bench, and the whole machine.
func snapshotCPU(c *cluster, op *operator) cpuTimes {
	pids := c.componentPIDs()
	pids["bench"] = os.Getpid()
	if pid := op.pid(); pid != 0 {
		pids["operator"] = pid
	}
	out := cpuTimes{}
	if t, err := busyCPU(); err == nil {
		out[machineCPU] = t
	}
	for name, pid := range pids {
		if t, err := processCPU(pid); err == nil {
			out[name] = t
		}
	}
	return out
}

// since is the CPU each process used from before to t.
func (t cpuTimes) since(before cpuTimes) cpuTimes {
	out := cpuTimes{}
	for name, d := range t {
		out[name] = d - before[name]
	}
	return out
}
