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
package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
)

// The workspace's contract with its image: a user 1000:1000 whose home is
// WorkspaceHome, a /bin/sh, and the toolchain on the image's PATH. The root
// filesystem is read-only: the toolchains' caches go under the home (Go's,
// npm's, pip's and Maven's do by default) or /tmp.
const (
	// DefaultLanguage is a Workspace's language when neither the sandbox nor
	// the stage chooses one.
	DefaultLanguage = "python"
	// WorkspaceHome is where the learner's persistent home is mounted.
	WorkspaceHome = "/home/learner"
	// WorkspaceContainer is the name of the workspace pod's container.
	WorkspaceContainer = "workspace"
	// DefaultWorkspacePort is where the learner's program listens unless the
	// stage says otherwise.
	DefaultWorkspacePort int32 = 8080
	// WorkspaceRoute is the path under which the sandbox's Nginx forwards to
	// the workspace's port, with the prefix taken off.
	WorkspaceRoute = "/dev/"

	homeVolumeName       = "home"
	workspaceUID   int64 = 1000
)

// workspaceIdle is the workspace container's main process: it waits, and
// ends at once when the pod stops, so that a suspend or a reset does not wait
// out the grace period. The learner's own processes run beside it.
const workspaceIdle = `trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done`

// workspaceTmpScratch is the workspace's /tmp: compilers write their work
// files there (go build, javac).
var workspaceTmpScratch = resource.MustParse("1Gi")

// DefaultLanguages is the built-in language catalog: the image of each
// language, built by the Dockerfile's workspace-<language> targets from the
// language's official image (golang, node, python, eclipse-temurin) with a
// shell, vim and nano, git, curl, psql, redis-cli and the learner user.
func DefaultLanguages() map[string]string {
	return map[string]string{
		"go":     "ghcr.io/learning-sandbox/workspace-go:0.1.0",
		"java":   "ghcr.io/learning-sandbox/workspace-java:0.1.0",
		"node":   "ghcr.io/learning-sandbox/workspace-node:0.1.0",
		"python": "ghcr.io/learning-sandbox/workspace-python:0.1.0",
	}
}

// DefaultEgressExcept are the private and shared address ranges, where a
// cluster's pod, Service and node ranges usually are; the operator's
// --workspace-egress-except replaces them with the cluster's own.
var DefaultEgressExcept = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"}

// alwaysExcept are never reached by the workspace's egress, whatever the
// settings: link-local holds the clouds' metadata services
// (169.254.169.254), and loopback is the node itself.
var alwaysExcept = []string{"169.254.0.0/16", "127.0.0.0/8"}

// LanguageError says that a Workspace's language is not in the operator's catalog.
type LanguageError struct {
	Component string
	Language  string
	Known     []string
}

func (e *LanguageError) Error() string {
	return fmt.Sprintf("workspace %q: language %q is not in this cluster's catalog: set spec.workspace.language to one of %s",
		e.Component, e.Language, strings.Join(e.Known, ", "))
}

// WorkspaceLanguage is the language of a Workspace component in a sandbox:
// the sandbox's choice, else the stage's, else the operator's default.
func WorkspaceLanguage(sb *sandboxv1.LearningSandbox, c sandboxv1.Component, s Settings) string {
	if sb.Spec.Workspace != nil && sb.Spec.Workspace.Language != "" {
		return sb.Spec.Workspace.Language
	}
	if c.Workspace != nil && c.Workspace.Language != "" {
		return c.Workspace.Language
	}
	return s.DefaultLanguage
}

// workspaceImage is the image of a Workspace component: its own image when
// the stage or an override sets one, else its language's from the catalog.
// The language must be in the catalog either way, so that what the learner
// chose is what they get.
func workspaceImage(sb *sandboxv1.LearningSandbox, c Component, s Settings) (string, error) {
	lang := WorkspaceLanguage(sb, c.Component, s)
	image, ok := s.Languages[lang]
	if !ok {
		return "", &LanguageError{Component: c.Name, Language: lang, Known: slices.Sorted(maps.Keys(s.Languages))}
	}
	if c.Image != "" {
		return c.Image, nil
	}
	return image, nil
}

// workspacePort is where a Workspace's program listens.
func workspacePort(c sandboxv1.Component) int32 {
	if c.Workspace != nil && c.Workspace.Port != nil {
		return *c.Workspace.Port
	}
	return DefaultWorkspacePort
}

// workspace is the learner's own long-lived pod: a StatefulSet of one, so
// that its home is a PersistentVolumeClaim made from a claim template. That
// claim is kept while the sandbox is suspended and through stage changes,
// deleted with the StatefulSet, and labelled with the reset generation, so a
// reset wipes it exactly as it wipes Postgres's data. The Service's port is
// where the learner's program listens; the pod is ready once the home is
// mounted and writable, whether or not a program runs.
func (r *renderer) workspace(c Component, connection map[string][]byte) []Object {
	lang := WorkspaceLanguage(r.sandbox, c.Component, r.settings)
	// c.Image is the catalog's image of the language, resolved by Render.
	ctr := r.mainContainer(c, c.Image, c.Port).
		WithCommand("/bin/sh", "-c", workspaceIdle).
		WithWorkingDir(WorkspaceHome).
		WithEnvFrom(corev1ac.EnvFromSource().WithSecretRef(corev1ac.SecretEnvSource().WithName(ConnectionSecretName))).
		WithEnv(
			corev1ac.EnvVar().WithName("HOME").WithValue(WorkspaceHome),
			corev1ac.EnvVar().WithName("PORT").WithValue(fmt.Sprint(c.Port)),
			corev1ac.EnvVar().WithName("WORKSPACE_LANGUAGE").WithValue(lang),
		).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(homeVolumeName).WithMountPath(WorkspaceHome)).
		WithReadinessProbe(corev1ac.Probe().
			WithExec(corev1ac.ExecAction().WithCommand("/bin/sh", "-c", `test -w "$HOME"`)).
			WithPeriodSeconds(10))
	scratch := withScratch(ctr, scratchDir{name: tmpVolume, path: tmpPath, limit: workspaceTmpScratch})
	pod := r.podSpec(workspaceUID, workspaceUID, ctr).WithVolumes(scratch...)
	// A fresh home is the fsGroup's; checking every file of a home on each
	// start would make a large one slow to come back.
	pod.SecurityContext.WithFSGroupChangePolicy(corev1.FSGroupChangeOnRootMismatch)

	// The environment is read at start: roll the pod when the connection details change.
	annotations := map[string]string{configHashAnnotation: hash(connection)}
	sts, spec := r.dataStatefulSet(c, r.serviceNames[c.Name])
	spec.WithVolumeClaimTemplates(r.claimTemplate(homeVolumeName, c.Name, dataVolume(c.Component))).
		WithTemplate(r.podTemplate(c.Name, annotations, pod))
	port := servicePortAC("http", c.Port, c.Port)
	return []Object{r.service(c.Name, port), r.headlessService(c.Name, port), sts}
}

// egressExcept are the ranges the workspace's egress leaves out: the
// settings' and those always left out.
func (s Settings) egressExcept() []string {
	out := slices.Clone(s.EgressExcept)
	for _, cidr := range alwaysExcept {
		if !slices.Contains(out, cidr) {
			out = append(out, cidr)
		}
	}
	return out
}
