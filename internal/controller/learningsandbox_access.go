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
package controller

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sandboxv1 "github.com/learning-sandbox/learning-sandbox-operator/api/v1alpha1"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/metrics"
	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

const (
	// tokenIssuedAnnotation and tokenExpiresAnnotation on the Secret say, by
	// the operator's clock, when its token was issued and when it expires, so
	// that the operator knows when to refresh it without reading the token.
	tokenIssuedAnnotation  = "sandbox.learning.dev/token-issued-at"
	tokenExpiresAnnotation = "sandbox.learning.dev/token-expires-at"
	// minTokenLifetime is the shortest token the TokenRequest API issues.
	minTokenLifetime = 10 * time.Minute
	// tokenExpirySlack: a token that expires this close to the sandbox lasts
	// as long as it. Times are written to the second, and a new token would
	// win the learner nothing.
	tokenExpirySlack = time.Minute
)

// LearnerAccess is how the learner's kubeconfig reaches the API server.
type LearnerAccess struct {
	// Server is the API server's URL as learners reach it.
	Server string
	// CAData is the certificate authority that signed the API server's certificate.
	CAData []byte
	// TokenLifetime is how long one token lives; it is refreshed when a third is left.
	TokenLifetime time.Duration
}

// reconcileKubeconfig keeps, when spec.access.kubeconfig is true, a Secret in
// the sandbox namespace with a kubeconfig for the learner ServiceAccount. Its
// token comes from the TokenRequest API (no long-lived token Secret exists),
// is refreshed when a third of its life is left, and is never asked to
// outlive the sandbox; deleting the sandbox deletes the ServiceAccount, which
// revokes the token at once. It returns when the token next needs refreshing,
// or zero when it lasts as long as the sandbox.
func (r *LearningSandboxReconciler) reconcileKubeconfig(ctx context.Context, sb *sandboxv1.LearningSandbox, ns string) (time.Duration, error) {
	if !sb.Spec.Access.Kubeconfig {
		sb.Status.KubeconfigSecret = ""
		return 0, nil
	}
	now := r.Clock.Now()
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.KubeconfigSecretName}, secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, fmt.Errorf("reading the kubeconfig Secret: %w", err)
	}
	if err == nil && len(secret.Data[stack.KubeconfigKey]) > 0 {
		if refreshIn, ok := tokenRefreshIn(secret.Annotations, sb.Status.ExpiresAt, now); ok {
			sb.Status.KubeconfigSecret = stack.KubeconfigSecretName
			return refreshIn, nil
		}
	}

	lifetime := r.Access.TokenLifetime
	if sb.Status.ExpiresAt != nil {
		lifetime = min(lifetime, sb.Status.ExpiresAt.Sub(now))
	}
	// A sandbox with less than TokenRequest's minimum left gets a token that
	// outlives it by minutes, no more: deleting the sandbox revokes it.
	lifetime = max(lifetime, minTokenLifetime)
	seconds := int64(lifetime / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
	sa := &corev1.ServiceAccount{}
	sa.Name, sa.Namespace = stack.LearnerName, ns
	if err := r.SubResource("token").Create(ctx, sa, tr); err != nil {
		return 0, fmt.Errorf("requesting a token for the learner ServiceAccount: %w", err)
	}
	kubeconfig, err := r.kubeconfig(sb, ns, tr.Status.Token)
	if err != nil {
		return 0, err
	}
	// The API server may grant less than asked (--service-account-max-token-expiration).
	granted := grantedLifetime(tr.Status.Token, lifetime)
	annotations := map[string]string{
		tokenIssuedAnnotation:  now.UTC().Format(time.RFC3339),
		tokenExpiresAnnotation: now.Add(granted).UTC().Format(time.RFC3339),
	}
	apply := corev1ac.Secret(stack.KubeconfigSecretName, ns).
		WithLabels(stack.CommonLabels(sb)).
		WithAnnotations(annotations).
		WithOwnerReferences(stack.OwnerReference(sb)).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{stack.KubeconfigKey: kubeconfig})
	if err := r.Apply(ctx, apply, client.FieldOwner(stack.FieldOwner), client.ForceOwnership); err != nil {
		return 0, fmt.Errorf("applying the kubeconfig Secret: %w", err)
	}
	metrics.TokensRefreshed.Inc()
	sb.Status.KubeconfigSecret = stack.KubeconfigSecretName
	// Judged from the annotations as written, as the next reconcile will.
	refreshIn, _ := tokenRefreshIn(annotations, sb.Status.ExpiresAt, now)
	return refreshIn, nil
}

// tokenRefreshIn reads the kubeconfig Secret's annotations and says how long
// its token stays good: until a third of its life is left, or zero when it
// lasts until the sandbox expires (give or take tokenExpirySlack). ok is false
// when the token is due, or the annotations are missing or unreadable, so a
// new token is needed now. Both times are by the operator's clock, so that the
// refresh of a new token always lies ahead.
func tokenRefreshIn(annotations map[string]string, sandboxExpires *metav1.Time, now time.Time) (time.Duration, bool) {
	issued, err := time.Parse(time.RFC3339, annotations[tokenIssuedAnnotation])
	if err != nil {
		return 0, false
	}
	expires, err := time.Parse(time.RFC3339, annotations[tokenExpiresAnnotation])
	if err != nil || !expires.After(issued) {
		return 0, false
	}
	if sandboxExpires != nil && !expires.Add(tokenExpirySlack).Before(sandboxExpires.Time) {
		return 0, true
	}
	refreshAt := expires.Add(-expires.Sub(issued) / 3)
	if !now.Before(refreshAt) {
		return 0, false
	}
	return refreshAt.Sub(now), true
}

// grantedLifetime is how long a service account token lives, from its own
// iat and exp claims; asked when the token cannot be read.
func grantedLifetime(token string, asked time.Duration) time.Duration {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return asked
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return asked
	}
	var claims struct {
		IssuedAt  int64 `json:"iat"`
		ExpiresAt int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.ExpiresAt <= claims.IssuedAt {
		return asked
	}
	return time.Duration(claims.ExpiresAt-claims.IssuedAt) * time.Second
}

// kubeconfig is a kubeconfig for the learner ServiceAccount, with the sandbox
// namespace as its default.
func (r *LearningSandboxReconciler) kubeconfig(sb *sandboxv1.LearningSandbox, ns, token string) ([]byte, error) {
	name := "sandbox-" + sb.Name
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: r.Access.Server, CertificateAuthorityData: r.Access.CAData}
	cfg.AuthInfos[sb.Spec.Learner.Name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: sb.Spec.Learner.Name, Namespace: ns}
	cfg.CurrentContext = name
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return out, nil
}
