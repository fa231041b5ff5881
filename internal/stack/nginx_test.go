package stack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestNginxConfigPassesNginxT checks every nginx.conf the operator can render
// with a real nginx (`make test` installs Debian's nginx-light). nginx resolves
// upstream hosts while it checks, so the check runs in a private mount
// namespace whose /etc/hosts knows the in-cluster Service name of the App.
func TestNginxConfigPassesNginxT(t *testing.T) {
	nginx := findNginx(t)
	for name, upstream := range map[string]string{
		"reverse proxy to the app": "app:8080",
		"welcome page":             "",
		"app with another name":    "backend-api:8080",
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			conf := filepath.Join(dir, "nginx.conf")
			g.Expect(os.WriteFile(conf, []byte(NginxConfig("web", upstream, "")), 0o600)).To(Succeed())
			hosts := filepath.Join(dir, "hosts")
			host, _, _ := strings.Cut(upstream, ":")
			g.Expect(os.WriteFile(hosts, []byte("127.0.0.1 localhost "+host+"\n"), 0o600)).To(Succeed())

			script := `mount --bind "$1" /etc/hosts && exec "$2" -t -c "$3" -p "$4"`
			args := []string{"-m"}
			if os.Geteuid() != 0 {
				args = append(args, "-r")
			}
			args = append(args, "sh", "-c", script, "sh", hosts, nginx, conf, dir)
			out, err := exec.Command("unshare", args...).CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), "nginx -t:\n%s", out)
			g.Expect(string(out)).To(ContainSubstring("test is successful"))
		})
	}
}

// TestNginxTRejectsBrokenConfig proves the check above can fail.
func TestNginxTRejectsBrokenConfig(t *testing.T) {
	g := NewWithT(t)
	nginx := findNginx(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	broken := strings.Replace(NginxConfig("web", "", ""), "events {", "events {{", 1)
	g.Expect(os.WriteFile(conf, []byte(broken), 0o600)).To(Succeed())
	out, err := exec.Command(nginx, "-t", "-c", conf, "-p", dir).CombinedOutput()
	g.Expect(err).To(HaveOccurred(), "nginx -t accepted a broken config:\n%s", out)
}

func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: `make test` installs it (apt-get install nginx-light)")
	return ""
}
