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
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// localClient is a database client on the user's machine that the plugin
// runs against a sandbox's component through a port-forward.
type localClient struct {
	name, what string
	// hostKey and portKey are the connection Secret's keys of the
	// component's Service host and port.
	hostKey, portKey string
	install          string
	// env is what the client reads its credentials from, for 127.0.0.1:port.
	env func(data map[string][]byte, port string) []string
	// args come before the user's own.
	args func(port string) []string
}

var psql = localClient{
	name: "psql", what: "PostgreSQL",
	hostKey: "PGHOST", portKey: "PGPORT",
	install: "install PostgreSQL's client (apt-get install postgresql-client on Debian and Ubuntu, brew install libpq on macOS)",
	env: func(d map[string][]byte, port string) []string {
		return []string{"PGHOST=127.0.0.1", "PGPORT=" + port, "PGSSLMODE=disable",
			"PGUSER=" + string(d["PGUSER"]), "PGPASSWORD=" + string(d["PGPASSWORD"]), "PGDATABASE=" + string(d["PGDATABASE"])}
	},
	args: func(string) []string { return nil },
}

var redisCLI = localClient{
	name: "redis-cli", what: "Redis",
	hostKey: "REDIS_HOST", portKey: "REDIS_PORT",
	install: "install Redis's client (apt-get install redis-tools on Debian and Ubuntu, brew install redis on macOS)",
	// REDISCLI_AUTH keeps the password off the command line.
	env: func(d map[string][]byte, _ string) []string {
		return []string{"REDISCLI_AUTH=" + string(d["REDIS_PASSWORD"])}
	},
	args: func(port string) []string { return []string{"-h", "127.0.0.1", "-p", port} },
}

func newConnectCommand(o *Options, lc localClient) *cobra.Command {
	return &cobra.Command{
		Use:   lc.name + " [SANDBOX] [-- " + lc.name + " ARGS...]",
		Short: fmt.Sprintf("Run your local %s against the sandbox's %s, through a port-forward", lc.name, lc.what),
		Long: fmt.Sprintf(`Port-forward to the sandbox's %s and run %s on this machine with the
sandbox's credentials (from its connection Secret, passed in the environment).
Arguments after -- go to %s.

With no sandbox named: the sandbox of your context's namespace.`, lc.what, lc.name, lc.name),
		Example: fmt.Sprintf("  kubectl sandbox %s fall26-ada\n  kubectl sandbox %s -- %s", lc.name, lc.name,
			map[string]string{"psql": "-c 'select version()'", "redis-cli": "PING"}[lc.name]),
		RunE: func(cmd *cobra.Command, args []string) error {
			sandbox, extra := args, []string(nil)
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				sandbox, extra = args[:dash], args[dash:]
			}
			if len(sandbox) > 1 {
				return fmt.Errorf("name one sandbox; put %s's own arguments after --", lc.name)
			}
			return o.connect(cmd.Context(), lc, sandbox, extra)
		},
	}
}

// connect runs the local client through a port-forward to the component.
func (o *Options) connect(ctx context.Context, lc localClient, args, extra []string) error {
	path, err := exec.LookPath(lc.name)
	if err != nil {
		return fmt.Errorf("%s is not installed on this machine: %s, or run it in the sandbox's workspace "+
			"(kubectl sandbox shell -- %s)", lc.name, lc.install, lc.name)
	}
	data, ns, err := o.connection(ctx, args)
	if err != nil {
		return err
	}
	host, port := string(data[lc.hostKey]), string(data[lc.portKey])
	if host == "" {
		return fmt.Errorf("the sandbox in %s runs no %s (its connection Secret has no %s)", ns, lc.what, lc.hostKey)
	}
	service, _, _ := strings.Cut(host, ".")
	pod, target, err := o.podFor(ctx, ns, service, port)
	if err != nil {
		return err
	}
	local, stop, err := o.portForward(ctx, ns, pod, target)
	if err != nil {
		return err
	}
	defer stop()
	cmd := exec.CommandContext(ctx, path, append(lc.args(local), extra...)...)
	cmd.Env = append(os.Environ(), lc.env(data, local)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	if err := cmd.Run(); err != nil {
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			return fmt.Errorf("%s exited with status %d", lc.name, exit.ExitCode())
		}
		return err
	}
	return nil
}

// podFor is a ready pod behind the Service and the pod's port that the
// Service's port goes to.
func (o *Options) podFor(ctx context.Context, ns, service, port string) (string, int, error) {
	c, err := o.Client()
	if err != nil {
		return "", 0, err
	}
	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: service}, svc); err != nil {
		return "", 0, explain(err, "get", "services in "+ns, "learning-sandbox-learner")
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if strconv.Itoa(int(svc.Spec.Ports[i].Port)) == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", 0, fmt.Errorf("service %s in %s has no port %s", service, ns, port)
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(ns),
		client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(svc.Spec.Selector)}); err != nil {
		return "", 0, explain(err, "list", "pods in "+ns, "learning-sandbox-learner")
	}
	for _, p := range pods.Items {
		if !podReady(&p) {
			continue
		}
		if sp.TargetPort.IntValue() > 0 {
			return p.Name, sp.TargetPort.IntValue(), nil
		}
		for _, ctr := range p.Spec.Containers {
			for _, cp := range ctr.Ports {
				if cp.Name == sp.TargetPort.String() || (sp.TargetPort.String() == "" && cp.ContainerPort == sp.Port) {
					return p.Name, int(cp.ContainerPort), nil
				}
			}
		}
	}
	return "", 0, fmt.Errorf("no ready pod behind service %s in %s yet (kubectl sandbox status says why)", service, ns)
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || !p.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// portForward forwards a free local port on 127.0.0.1 to the pod's port, as
// kubectl port-forward does (WebSocket, falling back to SPDY). It returns
// the local port and a function that stops the forward.
func (o *Options) portForward(ctx context.Context, ns, pod string, port int) (string, func(), error) {
	cfg, err := o.RESTConfig()
	if err != nil {
		return "", nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", nil, err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return "", nil, err
	}
	dialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	tunneling, err := portforward.NewSPDYOverWebsocketDialerForStreaming(url, cfg)
	if err != nil {
		return "", nil, err
	}
	dialer = portforward.NewFallbackDialerForStreaming(tunneling, dialer, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	})
	stopCh, readyCh := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)},
		stopCh, readyCh, io.Discard, o.ErrOut)
	if err != nil {
		return "", nil, err
	}
	failed := make(chan error, 1)
	go func() { failed <- fw.ForwardPorts() }()
	stop := func() { close(stopCh) }
	select {
	case <-readyCh:
	case err := <-failed:
		return "", nil, explain(fmt.Errorf("port-forwarding to pod %s: %w", pod, err), "create", "pods/portforward in "+ns, "learning-sandbox-learner")
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		stop()
		return "", nil, fmt.Errorf("port-forwarding to pod %s: no local port: %v", pod, err)
	}
	return strconv.Itoa(int(ports[0].Local)), stop, nil
}
