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
// Package stack renders what a LearningSandbox runs: from the sandbox, its
// RoadmapStage and the operator's settings to the desired Kubernetes objects as
// server-side apply configurations. It is pure: no client, no clock, no
// randomness, so it is tested with golden files and reused by any tool that
// needs the same manifests.
package stack

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// Default images. Each runs as a non-root user, as Pod Security "restricted" requires.
const (
	DefaultPostgresImage = "postgres:17-alpine"
	DefaultRedisImage    = "redis:7-alpine"
	DefaultNginxImage    = "nginxinc/nginx-unprivileged:1.27-alpine"
	DefaultAppImage      = "ghcr.io/learning-sandbox/sample-app:0.1.0"
)

// DefaultNamespacePrefix is put before a sandbox's name to name its namespace.
const DefaultNamespacePrefix = "sandbox-"

// Settings are the operator-wide choices that rendering depends on.
type Settings struct {
	// NamespacePrefix is put before the sandbox name to make its namespace name.
	NamespacePrefix string
	// Images are the default images per component type.
	Images Images
	// Registry, when set, replaces the registry of every image, for clusters that
	// pull only from a mirror: postgres:17-alpine becomes <Registry>/library/postgres:17-alpine.
	Registry string
	// DefaultBudget fills what a stage's budget leaves unset; every field is set.
	DefaultBudget sandboxv1.Budget
	// MaxBudget is the most that one sandbox may ask for; an unset field is unbounded.
	MaxBudget sandboxv1.Budget
	// IngressNamespace is where the cluster's ingress controller runs; its pods
	// may reach the sandbox's. Empty: none may.
	IngressNamespace string
	// LearnerClusterRole is the ClusterRole bound to the learner in their namespace.
	LearnerClusterRole string
	// OperatorNamespace and OperatorPodLabels pick the operator's pods, which
	// the allow-operator-checks NetworkPolicy admits to the ports that the
	// stage's exercises check. An empty OperatorNamespace: no such policy.
	OperatorNamespace string
	OperatorPodLabels map[string]string
	// Languages is the catalog of workspace languages: the image of each
	// (see DefaultLanguages).
	Languages map[string]string
	// DefaultLanguage is a Workspace's language when neither the sandbox nor
	// its stage chooses one.
	DefaultLanguage string
	// WorkspaceEgress lets the Workspace pods, and no other pod of a sandbox,
	// open connections on ports 80 and 443 to addresses outside
	// EgressExcept, for package managers.
	WorkspaceEgress bool
	// EgressExcept are the address ranges that the workspace's egress never
	// reaches: the cluster's pod, Service and node ranges. Link-local and
	// loopback addresses are always left out (see egressExcept).
	EgressExcept []string
}

// Images are the default images of the built-in component types.
type Images struct {
	Postgres string
	Redis    string
	Nginx    string
	App      string
}

// DefaultSettings returns the settings the operator uses when no flag changes them.
func DefaultSettings() Settings {
	return Settings{
		NamespacePrefix: DefaultNamespacePrefix,
		Images: Images{
			Postgres: DefaultPostgresImage,
			Redis:    DefaultRedisImage,
			Nginx:    DefaultNginxImage,
			App:      DefaultAppImage,
		},
		DefaultBudget:      DefaultBudget(),
		IngressNamespace:   "ingress-nginx",
		LearnerClusterRole: DefaultLearnerClusterRole,
		Languages:          DefaultLanguages(),
		DefaultLanguage:    DefaultLanguage,
		EgressExcept:       slices.Clone(DefaultEgressExcept),
	}
}

// NamespaceName is the namespace a sandbox of this name runs in.
func (s Settings) NamespaceName(sandbox string) string {
	return s.NamespacePrefix + sandbox
}

// image returns ref with its registry replaced by s.Registry, if set.
func (s Settings) image(ref string) string {
	if s.Registry == "" {
		return ref
	}
	return RewriteRegistry(ref, s.Registry)
}

// RewriteRegistry replaces the registry of an image reference, normalising
// Docker Hub's short names the way the container runtime does
// (redis:7 is docker.io/library/redis:7).
func RewriteRegistry(ref, registry string) string {
	registry = strings.TrimSuffix(registry, "/")
	first, rest, found := strings.Cut(ref, "/")
	switch {
	case !found:
		return registry + "/library/" + ref
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return registry + "/" + rest
	default:
		return registry + "/" + ref
	}
}

// typeResources are the requests and limits of each component type's main
// container when the stage and the sandbox set none.
var typeResources = map[sandboxv1.ComponentType]corev1.ResourceRequirements{
	sandboxv1.ComponentPostgres:  defaultResources("100m", "256Mi", "500m", "512Mi"),
	sandboxv1.ComponentRedis:     defaultResources("50m", "64Mi", "250m", "256Mi"),
	sandboxv1.ComponentNginx:     defaultResources("20m", "32Mi", "100m", "128Mi"),
	sandboxv1.ComponentApp:       defaultResources("50m", "64Mi", "250m", "256Mi"),
	sandboxv1.ComponentContainer: defaultResources("100m", "128Mi", "500m", "512Mi"),
	// Compilers and a JVM: most memory of the stack, little CPU at rest. Go's
	// compiler alone takes 1.6 GB to build go-redis v9 (go build -p 1,
	// /usr/bin/time -v), and a build at half a CPU takes minutes.
	sandboxv1.ComponentWorkspace: defaultResources("100m", "256Mi", "1", "2Gi"),
}

func defaultResources(cpuRequest, memRequest, cpuLimit, memLimit string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpuRequest),
			corev1.ResourceMemory: resource.MustParse(memRequest),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpuLimit),
			corev1.ResourceMemory: resource.MustParse(memLimit),
		},
	}
}

// DefaultStorage is the size of a Postgres data volume, or of a Workspace's
// home volume, when none is set.
var DefaultStorage = resource.MustParse("1Gi")

// InvalidOverrideError says that a sandbox's component override does not fit its
// stage. It needs the stage to be known, so the API server cannot refuse it.
type InvalidOverrideError struct {
	Component string
	Reason    string
}

func (e *InvalidOverrideError) Error() string {
	return fmt.Sprintf("component override %q: %s", e.Component, e.Reason)
}
