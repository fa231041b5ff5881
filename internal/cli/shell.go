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
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
	streamhttp "k8s.io/streaming/pkg/httpstream"

	"github.com/learning-sandbox/learning-sandbox-operator/internal/stack"
)

// loginShell starts bash where the image has it, else sh.
var loginShell = []string{"/bin/sh", "-c", "command -v bash >/dev/null && exec bash -l || exec sh -l"}

func newShellCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "shell [SANDBOX] [-- COMMAND ARGS...]",
		Short: "Open a shell in the sandbox's workspace, or run a command there",
		Long: `Open an interactive shell in the sandbox's workspace: the pod with your
language's toolchain, your persistent home (` + stack.WorkspaceHome + `), and the
connection details of the stack in the environment ($DATABASE_URL, $REDIS_URL, ...).
A program you start there on $PORT is reachable at $WORKSPACE_URL and through
the sandbox's Nginx under ` + stack.WorkspaceRoute + `.

With a command after --, run it there instead. With no sandbox named: the
sandbox of your context's namespace. It is kubectl exec into the workspace,
with the rights of your kubeconfig.`,
		Example: "  kubectl sandbox shell\n  kubectl sandbox shell fall26-ada\n  kubectl sandbox shell -- python3 --version",
		RunE: func(cmd *cobra.Command, args []string) error {
			sandbox, command := args, []string(nil)
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				sandbox, command = args[:dash], args[dash:]
			}
			if len(sandbox) > 1 {
				return errors.New("name one sandbox; put the command after --")
			}
			return o.shell(cmd.Context(), sandbox, command)
		},
	}
}

// shell runs the command (a login shell when none) in the sandbox's
// workspace, with a terminal when the plugin has one.
func (o *Options) shell(ctx context.Context, args, command []string) error {
	data, ns, err := o.connection(ctx, args)
	if err != nil {
		return err
	}
	raw := string(data["WORKSPACE_URL"])
	if raw == "" {
		return fmt.Errorf("the sandbox in %s has no workspace (its connection Secret has no WORKSPACE_URL): "+
			"its stage has no Workspace component, or the sandbox disables it", ns)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("the connection Secret's WORKSPACE_URL %q: %w", raw, err)
	}
	service, _, _ := strings.Cut(u.Hostname(), ".")
	pod, _, err := o.podFor(ctx, ns, service, u.Port())
	if err != nil {
		return err
	}
	if len(command) == 0 {
		command = loginShell
	}
	return o.exec(ctx, ns, pod, stack.WorkspaceContainer, command)
}

// exec runs a command in a container as kubectl exec does: over WebSocket,
// falling back to SPDY for API servers that lack it, with a raw terminal that
// follows the local window's size when stdin is one.
func (o *Options) exec(ctx context.Context, ns, pod, container string, command []string) error {
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	stdin, isFile := o.In.(*os.File)
	tty := isFile && term.IsTerminal(int(stdin.Fd()))
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: command,
			Stdin: true, Stdout: true, Stderr: !tty, TTY: tty,
		}, clientgoscheme.ParameterCodec)
	spdyExec, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	wsExec, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return err
	}
	executor, err := remotecommand.NewFallbackExecutor(wsExec, spdyExec, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Stdin: o.In, Stdout: o.Out, Stderr: o.ErrOut, Tty: tty}
	if tty {
		state, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return fmt.Errorf("putting the terminal in raw mode: %w", err)
		}
		defer func() { _ = term.Restore(int(stdin.Fd()), state) }()
		sizes := newWindowSizes(ctx, int(stdin.Fd()))
		defer sizes.stop()
		opts.TerminalSizeQueue = sizes
		opts.Stderr = nil
	}
	err = executor.StreamWithContext(ctx, opts)
	if exit, ok := errors.AsType[exec.CodeExitError](err); ok {
		return fmt.Errorf("the command exited with status %d", exit.Code)
	}
	if err != nil {
		return explain(fmt.Errorf("exec in pod %s: %w", pod, err), "create", "pods/exec in "+ns, "learning-sandbox-learner")
	}
	return nil
}

// windowSizes tells the remote terminal the local one's size: at the start
// and whenever the window changes.
type windowSizes struct {
	sizes  chan remotecommand.TerminalSize
	cancel context.CancelFunc
}

func newWindowSizes(ctx context.Context, fd int) *windowSizes {
	ctx, cancel := context.WithCancel(ctx)
	w := &windowSizes{sizes: make(chan remotecommand.TerminalSize, 1), cancel: cancel}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	send := func() {
		if width, height, err := term.GetSize(fd); err == nil {
			select {
			case w.sizes <- remotecommand.TerminalSize{Width: uint16(width), Height: uint16(height)}:
			default:
			}
		}
	}
	send()
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-ctx.Done():
				close(w.sizes)
				return
			case <-winch:
				send()
			}
		}
	}()
	return w
}

// Next is the next size, or nil once the session is over.
func (w *windowSizes) Next() *remotecommand.TerminalSize {
	size, ok := <-w.sizes
	if !ok {
		return nil
	}
	return &size
}

func (w *windowSizes) stop() { w.cancel() }
