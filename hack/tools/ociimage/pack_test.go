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
	"archive/tar"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// packStatic packs a binary and a CA bundle as `make images` does.
func packStatic(t *testing.T, dir, out string) {
	t.Helper()
	bin := filepath.Join(dir, "manager")
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(bin, []byte("#!binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := pack(packing{
		files: []string{bin + "=/manager=0755", ca + "=/etc/ssl/certs/ca-certificates.crt"},
		tag:   "ghcr.io/learning-sandbox/learning-sandbox-operator:0.1.0",
		out:   out, format: "oci", platform: "linux/arm64",
		config: v1.Config{Entrypoint: []string{"/manager"}, User: "65532:65532"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStaticImageHoldsTheBinaryAndCACertificatesOnly: the image has the two
// files, owned by root with the modes given, runs as non-root, and packing it
// again gives the same digest.
func TestStaticImageHoldsTheBinaryAndCACertificatesOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "images", "operator.tar")
	packStatic(t, dir, out)
	img, err := readOCIArchive(out, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || strings.Join(cf.Config.Entrypoint, " ") != "/manager" ||
		cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("config: user %q, entrypoint %q, platform %s/%s", cf.Config.User, cf.Config.Entrypoint, cf.OS, cf.Architecture)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var entries []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, not root", hdr.Name, hdr.Uid, hdr.Gid)
		}
		entries = append(entries, hdr.Name+" "+os.FileMode(hdr.Mode).String())
	}
	want := []string{"etc/ -rwxr-xr-x", "etc/ssl/ -rwxr-xr-x", "etc/ssl/certs/ -rwxr-xr-x",
		"etc/ssl/certs/ca-certificates.crt -rw-r--r--", "manager -rwxr-xr-x"}
	if strings.Join(entries, "\n") != strings.Join(want, "\n") {
		t.Errorf("layer entries:\n%s\nwant:\n%s", strings.Join(entries, "\n"), strings.Join(want, "\n"))
	}

	again := filepath.Join(dir, "again.tar")
	packStatic(t, dir, again)
	first, _ := os.ReadFile(out)
	second, _ := os.ReadFile(again)
	if string(first) != string(second) {
		t.Error("packing the same files twice gave different archives")
	}
}

// TestPushSendsTheArchivedImage: -push writes the archive's image to a
// registry, where it has the same digest.
func TestPushSendsTheArchivedImage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "operator.tar")
	packStatic(t, dir, out)
	img, err := readOCIArchive(out, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()

	server := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer server.Close()
	to := strings.TrimPrefix(server.URL, "http://") + "/learning-sandbox/operator:0.1.0"
	if err := pushArchive(out, to, true); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(to, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pushed.Digest(); got != want {
		t.Errorf("the registry has %s, the archive %s", got, want)
	}
}
